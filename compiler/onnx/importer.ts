/**
 * ONNX import: an ONNX ModelProto becomes a Kiln Symbol plus its parameters. Graph inputs
 * become variables (with their declared shapes and dtypes), initializers become parameters,
 * each node is mapped by its op family's mapping (mappings/), and nodes whose inputs are
 * all constants are folded at import. Every unsupported op or feature is collected and
 * reported in one OnnxUnsupportedError.
 */
import { Symbol } from "../symbol/symbol.js";
import { Variable, Group } from "../symbol/sym.js";
import { createOp } from "../symbol/compose.js";
import { DType } from "../base/dtype.js";
import { KilnError } from "../base/errors.js";
import { decodeModel, OnnxModel, OnnxNode } from "./proto.js";
import { ConstTensor, ONNX_TYPE, kilnDType, tensorFromProto } from "./tensor.js";
import { OnnxImportError, OnnxUnsupportedError, Unsupported } from "./errors.js";
import { MetaCache } from "./meta.js";
import { Node } from "../ir/node.js";
import { Tensor } from "../ops/tensor.js";
import { evaluateEntries } from "./fold.js";
import { GraphState, MapOutput, NodeCtx, Value, kilnShape } from "./node_ctx.js";
import { findMapping } from "./mappings/index.js";

export interface OnnxImportOptions {
  /** Shapes of graph inputs, overriding the declared ones (and filling symbolic dims such as a batch size). */
  inputShapes?: Record<string, readonly number[]>;
  /**
   * Values of graph inputs that ops need as constants (a Reshape's shape, a Slice's starts):
   * Kiln compiles static shapes, so these are folded into the graph. Inputs no op needs as a
   * constant stay inputs.
   */
  staticInputs?: Record<string, ConstTensor>;
}

export interface OnnxInputInfo {
  name: string;
  /** Kiln's shape (a scalar is (1,)); 0 for a dim the model leaves open. */
  shape: number[] | undefined;
  dtype: DType;
  /** An ONNX scalar (rank 0). */
  scalar: boolean;
  /** Bound as an auxiliary state (a BatchNormalization mean or variance fed as a graph input). */
  aux: boolean;
}

export interface OnnxImportResult {
  symbol: Symbol;
  argParams: Record<string, ConstTensor>;
  auxParams: Record<string, ConstTensor>;
  /** The graph inputs the symbol takes (as arguments or aux states), in the model's order. */
  inputs: OnnxInputInfo[];
  /** The graph outputs in order, with whether each is an ONNX scalar. */
  outputs: { name: string; scalar: boolean }[];
  /** Graph inputs whose given values were folded in as constants (see `staticInputs`). */
  foldedInputs: string[];
  /** Opset of the default domain. */
  opset: number;
}

const DTYPE_TO_ONNX: Record<DType, number> = {
  float32: ONNX_TYPE.FLOAT, float64: ONNX_TYPE.DOUBLE, float16: ONNX_TYPE.FLOAT16, int32: ONNX_TYPE.INT32,
  int64: ONNX_TYPE.INT64, uint8: ONNX_TYPE.UINT8, int8: ONNX_TYPE.INT8,
};

class Importer implements GraphState {
  readonly meta = new MetaCache();
  readonly opsets: ReadonlyMap<string, number>;
  private readonly values = new Map<string, Value>();
  private readonly params = new Map<string, { sym: Symbol; t: ConstTensor }>();
  private readonly used = new Set<string>();
  private readonly folded = new Set<string>();
  private readonly unsupported: Unsupported[] = [];

  constructor(
    private readonly model: OnnxModel,
    private readonly opts: OnnxImportOptions,
  ) {
    this.opsets = model.opsets;
  }

  value(name: string): Value | undefined {
    return this.values.get(name);
  }

  evaluate(v: Value): ConstTensor | undefined {
    if (v.konst) return v.konst;
    if (!v.sym || v.placeholder) return undefined;
    const feeds = new Map<string, Tensor>();
    const used: string[] = [];
    const seen = new Set<Node>();
    const stack: Node[] = [v.sym.outputs[0].node];
    while (stack.length) {
      const node = stack.pop()!;
      if (seen.has(node)) continue;
      seen.add(node);
      if (!node.isVariable) {
        stack.push(...node.inputs.map((e) => e.node));
        continue;
      }
      const param = this.params.get(node.name);
      const given = param ? param.t : this.opts.staticInputs?.[node.name];
      if (!given) return undefined;
      if (!param) used.push(node.name);
      feeds.set(node.name, new Tensor(kilnShape(given.dims), given.values));
    }
    let t: Tensor;
    try {
      [t] = evaluateEntries([v.sym.outputs[0]], feeds, this.meta);
    } catch {
      return undefined;
    }
    for (const u of used) this.folded.add(u);
    const dtype = this.meta.of(v.sym.outputs[0]).dtype ?? "float32";
    return { dims: v.scalar ? [] : t.shape, onnxType: DTYPE_TO_ONNX[dtype], dtype, values: t.data };
  }

  uniqueName(base: string): string {
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  materialize(name: string, t: ConstTensor): Symbol {
    const have = this.params.get(name);
    if (have) return have.sym;
    if (t.dims.some((d) => d === 0))
      throw new OnnxUnsupportedError([{ opType: "(constant)", nodeName: name, reason: `zero-size tensor [${t.dims.join(",")}]` }]);
    this.used.add(name);
    const sym = Variable(name, { shape: kilnShape(t.dims), dtype: t.dtype });
    this.params.set(name, { sym, t });
    return sym;
  }

  run(): OnnxImportResult {
    const g = this.model.graph;
    const initNames = new Set(g.initializers.map((t) => t.name));
    for (const t of g.initializers) {
      this.used.add(t.name);
      try {
        this.values.set(t.name, { konst: tensorFromProto(t, `initializer ${t.name}`) });
      } catch (e) {
        if (!(e instanceof OnnxUnsupportedError)) throw e;
        this.unsupported.push(...e.items);
        this.values.set(t.name, { placeholder: true, sym: Variable(`__unsupported_${t.name}`) });
      }
    }
    const inputs: OnnxInputInfo[] = [];
    for (const vi of g.inputs) {
      if (initNames.has(vi.name)) continue;
      this.used.add(vi.name);
      const given = this.opts.inputShapes?.[vi.name];
      const problem =
        vi.kind !== "tensor" && vi.kind !== ""
          ? `graph input ${vi.name} is a ${vi.kind}`
          : vi.elemType === undefined
            ? `graph input ${vi.name} has no element type`
            : undefined;
      let dtype: DType = "float32";
      if (problem === undefined) {
        try {
          dtype = kilnDType(vi.elemType!, `graph input ${vi.name}`);
        } catch (e) {
          if (!(e instanceof OnnxUnsupportedError)) throw e;
          this.unsupported.push(...e.items);
          this.values.set(vi.name, { placeholder: true, sym: Variable(`__unsupported_${vi.name}`) });
          continue;
        }
      } else {
        this.unsupported.push({ opType: "(input)", nodeName: vi.name, reason: problem });
        this.values.set(vi.name, { placeholder: true, sym: Variable(`__unsupported_${vi.name}`) });
        continue;
      }
      const onnxShape = given ?? vi.shape?.map((d) => (d.dimValue !== undefined ? d.dimValue : -1));
      if (onnxShape && onnxShape.some((d) => d === 0)) {
        // An empty tensor can only be a constant (say, empty axes): fine when its value is given.
        const given = this.opts.staticInputs?.[vi.name];
        if (given) {
          this.values.set(vi.name, { konst: given });
          this.folded.add(vi.name);
          continue;
        }
        this.unsupported.push({ opType: "(input)", nodeName: vi.name, reason: `zero-size shape [${onnxShape.join(",")}]` });
        this.values.set(vi.name, { placeholder: true, sym: Variable(`__unsupported_${vi.name}`) });
        continue;
      }
      const shape = onnxShape ? kilnShape(onnxShape.map((d) => (d < 0 ? 0 : d))) : undefined;
      const scalar = onnxShape !== undefined && onnxShape.length === 0;
      this.values.set(vi.name, { sym: Variable(vi.name, { ...(shape ? { shape } : {}), dtype }), scalar });
      inputs.push({ name: vi.name, shape, dtype, scalar, aux: false });
    }

    const consumed = new Set<string>(g.outputs.map((o) => o.name));
    for (const n of g.nodes) for (const i of n.inputs) consumed.add(i);
    for (const n of g.nodes) {
      const mapper = n.domain === "" ? findMapping(n.opType) : undefined;
      if (!mapper) {
        this.unsupported.push({ opType: n.domain ? `${n.domain}:${n.opType}` : n.opType, nodeName: n.name || n.outputs[0] || "?" });
        this.placeholders(n);
        continue;
      }
      this.mapNode(n, consumed);
    }
    if (this.unsupported.length) throw new OnnxUnsupportedError(this.unsupported);
    return this.finish(inputs);
  }

  private placeholders(n: OnnxNode): void {
    for (const o of n.outputs) if (o) this.values.set(o, { placeholder: true, sym: Variable(`__unsupported_${o}`) });
  }

  private mapNode(n: OnnxNode, consumed: Set<string>): void {
    const mapper = findMapping(n.opType)!;
    const present = n.inputs.filter((i) => i !== "");
    const inputsPlaceholder = present.some((i) => this.values.get(i)?.placeholder);
    const canFold = present.length > 0 && present.every((i) => this.values.get(i)?.konst !== undefined);
    if (inputsPlaceholder) {
      // Downstream of a node that could not be mapped (already reported): nothing to learn here.
      this.placeholders(n);
      return;
    }
    let outs: MapOutput[] | undefined;
    try {
      if (canFold) outs = this.tryFold(n);
      if (!outs) {
        const ctx = new NodeCtx(n, this, false);
        outs = mapper(ctx);
      }
    } catch (e) {
      if (e instanceof OnnxUnsupportedError) {
        this.unsupported.push(...e.items);
        this.placeholders(n);
        return;
      }
      if (e instanceof OnnxImportError) throw e;
      if (e instanceof KilnError) throw new OnnxImportError(e.message, n.name || n.outputs[0] || "?", n.opType);
      throw e;
    }
    n.outputs.forEach((o, i) => {
      if (!o) return;
      const r = outs![i];
      if (r === undefined) {
        if (consumed.has(o))
          this.unsupported.push({ opType: n.opType, nodeName: n.name || n.outputs[0], reason: `optional output ${i} (${o}) is not produced by Kiln's mapping` });
        this.values.set(o, { placeholder: true, sym: Variable(`__unsupported_${o}`) });
        return;
      }
      this.values.set(o, toValue(r));
    });
  }

  /** Maps a node whose inputs are all constants and evaluates it now; undefined when that fails. */
  private tryFold(n: OnnxNode): MapOutput[] | undefined {
    const ctx = new NodeCtx(n, this, true);
    let outs: MapOutput[];
    try {
      outs = findMapping(n.opType)!(ctx);
      const syms = outs.map((o) => (o === undefined || isConst(o) ? undefined : o instanceof Symbol ? o : o.sym));
      const live = syms.filter((s): s is Symbol => s !== undefined);
      const vals = evaluateEntries(live.map((s) => s.outputs[0]), ctx.feeds, this.meta);
      let k = 0;
      return outs.map((o, i) => {
        if (o === undefined || isConst(o)) return o;
        const t = vals[k++];
        const scalar = !(o instanceof Symbol) && o.scalar;
        const dtype = this.meta.of(syms[i]!.outputs[0]).dtype ?? "float32";
        return { dims: scalar ? [] : t.shape, onnxType: DTYPE_TO_ONNX[dtype], dtype, values: t.data } satisfies ConstTensor;
      });
    } catch (e) {
      if (e instanceof OnnxUnsupportedError) throw e;
      return undefined;
    }
  }

  private finish(inputs: OnnxInputInfo[]): OnnxImportResult {
    const g = this.model.graph;
    const seen = new Set<string>();
    const key = (s: Symbol): string => `${s.outputs[0].node.name}#${s.outputs[0].index}`;
    const outputs: { name: string; scalar: boolean }[] = [];
    const syms = g.outputs.map((o) => {
      const v = this.values.get(o.name);
      if (!v) throw new OnnxImportError(`graph output ${o.name} is not produced by any node`, o.name, "(output)");
      let s = v.sym ?? this.materialize(this.uniqueName(`${o.name}_value`), v.konst!);
      // An output that is a variable, or the same entry as another output, gets its own node.
      if (s.outputs[0].node.isVariable || seen.has(key(s))) s = createOp("_copy", { data: s, name: this.uniqueName(o.name) });
      seen.add(key(s));
      outputs.push({ name: o.name, scalar: v.konst ? v.konst.dims.length === 0 : v.scalar === true });
      return s;
    });
    const symbol = syms.length === 1 ? syms[0] : Group(syms);
    const args = new Set(symbol.listArguments());
    const aux = new Set(symbol.listAuxiliaryStates());
    const argParams: Record<string, ConstTensor> = {};
    const auxParams: Record<string, ConstTensor> = {};
    for (const [name, { t }] of this.params) {
      if (aux.has(name)) auxParams[name] = t;
      else if (args.has(name)) argParams[name] = t;
    }
    return {
      symbol,
      argParams,
      auxParams,
      inputs: inputs.filter((i) => args.has(i.name) || aux.has(i.name)).map((i) => ({ ...i, aux: aux.has(i.name) })),
      outputs,
      foldedInputs: [...this.folded],
      opset: this.opsets.get("") ?? 1,
    };
  }
}

function isConst(o: MapOutput): o is ConstTensor {
  return o !== undefined && !(o instanceof Symbol) && "values" in o;
}

function toValue(r: Exclude<MapOutput, undefined>): Value {
  if (r instanceof Symbol) return { sym: r };
  if (isConst(r)) return { konst: r };
  return { sym: r.sym, scalar: r.scalar };
}

/** Imports an ONNX model (its protobuf bytes) as a Kiln symbol and parameters held as constants. */
export function importOnnx(bytes: Uint8Array | OnnxModel, opts: OnnxImportOptions = {}): OnnxImportResult {
  const model = bytes instanceof Uint8Array ? decodeModel(bytes) : bytes;
  return new Importer(model, opts).run();
}
