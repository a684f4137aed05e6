/**
 * Constants and type changes: Constant, Shape and Size (from inferred shapes), ConstantOfShape,
 * Range and EyeLike (evaluated at import), Cast/CastLike, and Dropout (inference: identity).
 */
import { ConstTensor, ONNX_TYPE, constTensor, kilnDType, roundToDType } from "../tensor.js";
import type { NodeCtx } from "../node_ctx.js";
import { defineMappings, Mapper } from "./registry.js";
import { out, size } from "./util.js";

const constant: Mapper = (n) => {
  const t = n.tensorAttr("value");
  if (t) return [t];
  const f = n.float("value_float");
  if (f !== undefined) return [constTensor([], ONNX_TYPE.FLOAT, [f])];
  const fs = n.floats("value_floats");
  if (fs !== undefined) return [constTensor([fs.length], ONNX_TYPE.FLOAT, fs)];
  const i = n.int("value_int");
  if (i !== undefined) return [constTensor([], ONNX_TYPE.INT64, [i])];
  const is = n.ints("value_ints");
  if (is !== undefined) return [constTensor([is.length], ONNX_TYPE.INT64, is)];
  if (n.hasAttr("sparse_value")) n.unsupported("sparse_value");
  if (n.hasAttr("value_string") || n.hasAttr("value_strings")) n.unsupported("string constants");
  return n.fail("has no value attribute");
};

const shape: Mapper = (n) => {
  const dims = n.shape(0);
  if (dims === undefined || dims.some((d) => d === 0)) return n.fail("Shape needs the input's shape to be known at import");
  const r = dims.length;
  const clampIdx = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clampIdx(n.int("start", 0));
  const end = clampIdx(n.int("end", r));
  const sel = dims.slice(start, Math.max(start, end));
  if (sel.length === 0) n.unsupported("an empty shape (zero-size tensor)");
  return [constTensor([sel.length], ONNX_TYPE.INT64, sel)];
};

const sizeOp: Mapper = (n) => [constTensor([], ONNX_TYPE.INT64, [size(n.fullShape(0))])];

const constantOfShape: Mapper = (n) => {
  const dims = n.constInts(0, "shape");
  if (dims.some((d) => d === 0)) n.unsupported("a zero-size result");
  const v = n.tensorAttr("value") ?? constTensor([1], ONNX_TYPE.FLOAT, [0]);
  return [constTensor(dims, v.onnxType, new Float64Array(size(dims)).fill(v.values[0]))];
};

const range: Mapper = (n) => {
  const start = n.konst(0, "start");
  const limit = n.konst(1, "limit").values[0];
  const delta = n.konst(2, "delta").values[0];
  const s = start.values[0];
  const count = Math.max(Math.ceil((limit - s) / delta), 0);
  if (count === 0) n.unsupported("an empty range (zero-size tensor)");
  const vals = new Float64Array(count);
  for (let i = 0; i < count; i++) vals[i] = s + i * delta;
  return [{ dims: [count], onnxType: start.onnxType, dtype: start.dtype, values: roundToDType(vals, start.dtype) }];
};

const eyeLike: Mapper = (n) => {
  const [r, c] = n.fullShape(0);
  if (n.rank(0) !== 2) n.fail("EyeLike needs a 2-D input");
  const k = n.int("k", 0);
  const type = n.int("dtype") ?? n.onnxType(0);
  const vals = new Float64Array(r * c);
  for (let i = 0; i < r; i++) if (i + k >= 0 && i + k < c) vals[i * c + i + k] = 1;
  return [constTensor([r, c], type, vals, n.name)];
};

function castTo(n: NodeCtx, to: number): ReturnType<Mapper> {
  const dtype = kilnDType(to, n.name);
  if (to === ONNX_TYPE.STRING) n.unsupported("cast to string");
  if (n.isConst(0)) {
    const t = n.konst(0, "input");
    const v = to === ONNX_TYPE.BOOL ? t.values.map((x) => (x !== 0 ? 1 : 0)) : roundToDType(t.values, dtype);
    return [{ dims: t.dims, onnxType: to, dtype, values: v } satisfies ConstTensor];
  }
  let x = n.in(0);
  // bool is 0/1: anything non-zero is true (a plain cast to uint8 would keep 2 as 2).
  if (to === ONNX_TYPE.BOOL) x = n.op("_not_equal_scalar", { data: x, scalar: 0 });
  const y = n.symDType(x) === dtype ? n.op("_copy", { data: x }) : n.op("Cast", { data: x, dtype });
  return [out(y, n.isScalar(0))];
}

const cast: Mapper = (n) => {
  const to = n.int("to");
  if (to === undefined) return n.fail("has no 'to' attribute");
  if (n.hasAttr("round_mode") && n.str("round_mode", "up") !== "up") n.unsupported("round_mode for float8 casts");
  return castTo(n, to);
};

const castLike: Mapper = (n) => {
  const to = n.isConst(1) ? n.konst(1, "target_type").onnxType : onnxTypeOf(n.dtype(1));
  return castTo(n, to);
};

function onnxTypeOf(dt: string): number {
  const m: Record<string, number> = { float32: 1, float64: 11, float16: 10, int32: 6, int64: 7, uint8: 2, int8: 3 };
  return m[dt];
}

const dropout: Mapper = (n) => {
  if (n.opset >= 12 && n.has(2)) {
    const training = n.isConst(2) ? n.konst(2, "training_mode").values[0] : NaN;
    if (training !== 0) n.unsupported("training_mode (random masks)");
  }
  if (n.opset < 7 && n.int("is_test", 0) === 0) n.unsupported("is_test=0 (training)");
  const x = n.in(0);
  const y = n.op("_copy", { data: x });
  const mask = n.node.outputs.length > 1 && n.node.outputs[1] ? n.op("Cast", { data: n.op("ones_like", { data: x }), dtype: "uint8" }) : undefined;
  return [out(y, n.isScalar(0)), mask];
};

defineMappings({
  Constant: constant,
  Shape: shape,
  Size: sizeOp,
  ConstantOfShape: constantOfShape,
  Range: range,
  EyeLike: eyeLike,
  Cast: cast,
  CastLike: castLike,
  Dropout: dropout,
});
