/**
 * `fromONNX`: an ONNX model's bytes as a Kiln Symbol with its parameters as NDArrays. The
 * compiler (compiler/onnx) does the work and returns constants as float64 values; this layer
 * only puts them into arrays on a context.
 */
import type { Symbol } from "../compiler/symbol/symbol.js";
import type { DType } from "../compiler/base/dtype.js";
import { importOnnx, OnnxImportOptions, OnnxInputInfo } from "../compiler/onnx/importer.js";
import { ConstTensor, ONNX_TYPE } from "../compiler/onnx/tensor.js";
import { NDArray } from "./ndarray.js";
import { Context, cpu } from "./context.js";

export interface FromOnnxOptions {
  /** Where the parameter arrays live (default cpu()). */
  ctx?: Context;
  /** Shapes of graph inputs, overriding the declared ones (and fixing symbolic dims such as a batch size). */
  inputShapes?: Record<string, readonly number[]>;
  /**
   * Values of graph inputs that ops need as constants (a Reshape's target shape, Slice's
   * starts): Kiln compiles static shapes, so these are folded into the graph.
   */
  staticInputs?: Record<string, NDArray>;
}

export interface FromOnnxResult {
  symbol: Symbol;
  argParams: Record<string, NDArray>;
  auxParams: Record<string, NDArray>;
  /** The graph inputs the symbol takes, in the model's order (shape (1,) for an ONNX scalar). */
  inputs: OnnxInputInfo[];
  /** The graph outputs, in order; `scalar` marks ONNX rank-0 outputs (Kiln gives shape (1,)). */
  outputs: { name: string; scalar: boolean }[];
  /** Graph inputs folded in as constants from `staticInputs`. */
  foldedInputs: string[];
  /** Opset version of the default ONNX domain. */
  opset: number;
}

const ONNX_OF: Record<DType, number> = {
  float32: ONNX_TYPE.FLOAT, float64: ONNX_TYPE.DOUBLE, float16: ONNX_TYPE.FLOAT16, int32: ONNX_TYPE.INT32,
  int64: ONNX_TYPE.INT64, uint8: ONNX_TYPE.UINT8, int8: ONNX_TYPE.INT8,
};

/** The values of a constant as an NDArray (a scalar as shape (1,)). */
export function constToNDArray(t: ConstTensor, ctx: Context = cpu()): NDArray {
  const a = new NDArray(t.dims.length ? [...t.dims] : [1], t.dtype, ctx);
  a.set(t.values);
  return a;
}

function toConst(a: NDArray): ConstTensor {
  return { dims: [...a.shape], onnxType: ONNX_OF[a.dtype], dtype: a.dtype, values: a.toFloat64() };
}

/**
 * Imports an ONNX model from its bytes (read the file yourself: `fs.readFileSync("model.onnx")`).
 * Initializers become `argParams` (or `auxParams` for BatchNormalization statistics); ops
 * Kiln cannot map fail with one OnnxUnsupportedError listing every one of them.
 */
export function fromONNX(bytes: Uint8Array, opts: FromOnnxOptions = {}): FromOnnxResult {
  const ctx = opts.ctx ?? cpu();
  const importOpts: OnnxImportOptions = { inputShapes: opts.inputShapes };
  if (opts.staticInputs) importOpts.staticInputs = Object.fromEntries(Object.entries(opts.staticInputs).map(([k, v]) => [k, toConst(v)]));
  const r = importOnnx(bytes, importOpts);
  const wrap = (m: Record<string, ConstTensor>): Record<string, NDArray> =>
    Object.fromEntries(Object.entries(m).map(([k, t]) => [k, constToNDArray(t, ctx)]));
  return {
    symbol: r.symbol,
    argParams: wrap(r.argParams),
    auxParams: wrap(r.auxParams),
    inputs: r.inputs,
    outputs: r.outputs,
    foldedInputs: r.foldedInputs,
    opset: r.opset,
  };
}
