/**
 * What an op mapping sees of one ONNX node: its attributes (typed, with defaults), its inputs
 * as Kiln symbols or constants, their shapes and dtypes, and a builder for Kiln op nodes
 * whose errors name the ONNX node.
 */
import { Symbol } from "../symbol/symbol.js";
import { Variable } from "../symbol/sym.js";
import { createOp } from "../symbol/compose.js";
import { Shape } from "../base/shape.js";
import { DType } from "../base/dtype.js";
import { KilnError } from "../base/errors.js";
import { Tensor } from "../ops/tensor.js";
import { ATTR, OnnxAttribute, OnnxNode } from "./proto.js";
import { ConstTensor, tensorFromProto, ONNX_TYPE } from "./tensor.js";
import { OnnxImportError, OnnxUnsupportedError } from "./errors.js";
import { MetaCache } from "./meta.js";

/** A value of the ONNX graph during import: a Kiln symbol, or a constant known at import. */
export interface Value {
  sym?: Symbol;
  konst?: ConstTensor;
  /** An ONNX scalar (rank 0), which Kiln holds as shape (1,). */
  scalar?: boolean;
  /** Stands for the output of a node that could not be mapped (import goes on to list every problem). */
  placeholder?: boolean;
}

/** A mapping's output: a symbol, a constant, or a symbol flagged as an ONNX scalar. */
export type MapOutput = Symbol | ConstTensor | { sym: Symbol; scalar: boolean } | undefined;

/** What the importer provides to node contexts. */
export interface GraphState {
  readonly meta: MetaCache;
  readonly opsets: ReadonlyMap<string, number>;
  value(name: string): Value | undefined;
  /** A constant as a parameter variable (argParams or auxParams), created once per name. */
  materialize(name: string, t: ConstTensor): Symbol;
  /** The value of a symbol computed only from parameters and given graph inputs; undefined otherwise. */
  evaluate(v: Value): ConstTensor | undefined;
  uniqueName(base: string): string;
}

const text = new TextDecoder();

/** Kiln's shape for ONNX dims: a scalar is (1,). */
export function kilnShape(dims: readonly number[]): number[] {
  return dims.length ? [...dims] : [1];
}

export class NodeCtx {
  readonly name: string;
  private readonly attrs = new Map<string, OnnxAttribute>();
  /** Folding: constant inputs become variables fed from `feeds`, and outputs are evaluated at import. */
  readonly feeds = new Map<string, Tensor>();
  private created = 0;

  constructor(
    readonly node: OnnxNode,
    private readonly g: GraphState,
    readonly folding: boolean,
  ) {
    this.name = node.name || node.outputs.find((o) => o) || node.opType;
    for (const a of node.attributes) this.attrs.set(a.name, a);
  }

  get opType(): string {
    return this.node.opType;
  }

  /** The opset version of the node's domain. */
  get opset(): number {
    return this.g.opsets.get(this.node.domain) ?? 1;
  }

  get meta(): MetaCache {
    return this.g.meta;
  }

  // ---- errors -------------------------------------------------------------------------------

  fail(message: string): never {
    throw new OnnxImportError(message, this.name, this.opType);
  }

  unsupported(reason: string): never {
    throw new OnnxUnsupportedError([{ opType: this.opType, nodeName: this.name, reason }]);
  }

  // ---- attributes ---------------------------------------------------------------------------

  hasAttr(name: string): boolean {
    return this.attrs.has(name);
  }

  private attr(name: string, types: number[]): OnnxAttribute | undefined {
    const a = this.attrs.get(name);
    if (!a) return undefined;
    if (a.refAttrName) this.unsupported(`attribute ${name} refers to a function attribute`);
    if (a.type !== ATTR.UNDEFINED && !types.includes(a.type)) this.fail(`attribute ${name} has type ${a.type}, expected ${types.join(" or ")}`);
    return a;
  }

  int(name: string, def: number): number;
  int(name: string): number | undefined;
  int(name: string, def?: number): number | undefined {
    const a = this.attr(name, [ATTR.INT]);
    return a ? a.i : def;
  }

  float(name: string, def: number): number;
  float(name: string): number | undefined;
  float(name: string, def?: number): number | undefined {
    const a = this.attr(name, [ATTR.FLOAT]);
    return a ? a.f : def;
  }

  str(name: string, def: string): string;
  str(name: string): string | undefined;
  str(name: string, def?: string): string | undefined {
    const a = this.attr(name, [ATTR.STRING]);
    return a ? text.decode(a.s) : def;
  }

  ints(name: string, def: number[]): number[];
  ints(name: string): number[] | undefined;
  ints(name: string, def?: number[]): number[] | undefined {
    const a = this.attr(name, [ATTR.INTS]);
    return a ? [...a.ints] : def;
  }

  floats(name: string, def: number[]): number[];
  floats(name: string): number[] | undefined;
  floats(name: string, def?: number[]): number[] | undefined {
    const a = this.attr(name, [ATTR.FLOATS]);
    return a ? [...a.floats] : def;
  }

  strings(name: string): string[] | undefined {
    const a = this.attr(name, [ATTR.STRINGS]);
    return a ? a.strings.map((s) => text.decode(s)) : undefined;
  }

  tensorAttr(name: string): ConstTensor | undefined {
    const a = this.attr(name, [ATTR.TENSOR]);
    return a?.t ? tensorFromProto(a.t, `${this.name}.${name}`) : undefined;
  }

  // ---- inputs -------------------------------------------------------------------------------

  get numInputs(): number {
    return this.node.inputs.length;
  }

  /** Whether optional input i is given (present and not the empty name). */
  has(i: number): boolean {
    return i < this.node.inputs.length && this.node.inputs[i] !== "";
  }

  private value(i: number): Value {
    if (!this.has(i)) this.fail(`input ${i} is missing`);
    const name = this.node.inputs[i];
    const v = this.g.value(name);
    if (!v) this.fail(`input ${i} (${name}) is not produced by any node, initializer or graph input`);
    return v;
  }

  isConst(i: number): boolean {
    return this.has(i) && this.value(i).konst !== undefined;
  }

  /** Input i as a symbol (a constant becomes a parameter, or a fed variable while folding). */
  in(i: number): Symbol {
    const v = this.value(i);
    if (v.sym) return v.sym;
    return this.constSym(v.konst!, this.node.inputs[i]);
  }

  /** A constant as a symbol: a parameter named `name` (a fresh one per node when `fresh`). */
  constSym(t: ConstTensor, name: string, fresh = false): Symbol {
    if (this.folding) {
      const feed = `__fold${this.feeds.size}`;
      this.feeds.set(feed, new Tensor(kilnShape(t.dims), t.values));
      return Variable(feed, { shape: kilnShape(t.dims), dtype: t.dtype });
    }
    return this.g.materialize(fresh ? this.g.uniqueName(`${this.name}_${name}`) : name, t);
  }

  /** Input i as a constant: an initializer, a Constant's output, a folded value or a given graph input. */
  konst(i: number, what: string): ConstTensor {
    const v = this.value(i);
    if (v.konst) return v.konst;
    const given = this.g.evaluate(v);
    if (given) return given;
    return this.fail(
      `input ${i} (${what}, "${this.node.inputs[i]}") must be a constant (an initializer, a Constant or a foldable value): Kiln compiles static shapes`,
    );
  }

  /** A constant input as a list of integers. */
  constInts(i: number, what: string): number[] {
    return Array.from(this.konst(i, what).values);
  }

  isScalar(i: number): boolean {
    const v = this.value(i);
    return v.konst ? v.konst.dims.length === 0 : v.scalar === true;
  }

  /** The ONNX shape of input i ([] for a scalar); unknown dims are 0; undefined when unknown. */
  shape(i: number): Shape | undefined {
    const v = this.value(i);
    if (v.konst) return v.konst.dims;
    if (v.scalar) return [];
    return this.g.meta.of(v.sym!.outputs[0]).shape;
  }

  /** The rank of input i, which the mapping needs. */
  rank(i: number): number {
    const s = this.shape(i);
    if (s === undefined) this.fail(`the rank of input ${i} (${this.node.inputs[i]}) is unknown`);
    return s.length;
  }

  /** The full shape of input i, which the mapping needs. */
  fullShape(i: number): number[] {
    const s = this.shape(i);
    if (s === undefined || s.some((d) => d === 0)) this.fail(`the shape of input ${i} (${this.node.inputs[i]}) must be known, got ${s ? `[${s.join(",")}]` : "unknown"}`);
    return [...s];
  }

  dtype(i: number): DType {
    const v = this.value(i);
    if (v.konst) return v.konst.dtype;
    const t = this.g.meta.of(v.sym!.outputs[0]).dtype;
    return t ?? "float32";
  }

  /** The ONNX element type of input i when it is a constant or known; FLOAT otherwise. */
  onnxType(i: number): number {
    const v = this.value(i);
    return v.konst ? v.konst.onnxType : ONNX_TYPE.FLOAT;
  }

  /** Shape of a symbol built by this mapping (Kiln's view: a scalar is (1,)). */
  symShape(s: Symbol): Shape | undefined {
    return this.g.meta.of(s.outputs[0]).shape;
  }

  symFullShape(s: Symbol): number[] {
    const sh = this.symShape(s);
    if (sh === undefined || sh.some((d) => d === 0)) this.fail(`an intermediate shape must be known, got ${sh ? `[${sh.join(",")}]` : "unknown"}`);
    return [...sh];
  }

  symDType(s: Symbol): DType {
    return this.g.meta.of(s.outputs[0]).dtype ?? "float32";
  }

  // ---- building -----------------------------------------------------------------------------

  /** A Kiln op node named after the ONNX node; errors (params, shapes) name the ONNX node. */
  op(opName: string, args: Record<string, unknown>): Symbol {
    const name = this.g.uniqueName(this.created++ === 0 ? this.name : `${this.name}_${opName.toLowerCase()}`);
    try {
      const s = createOp(opName, { ...args, name });
      for (const e of s.outputs) this.g.meta.of(e);
      return s;
    } catch (e) {
      if (e instanceof OnnxImportError || e instanceof OnnxUnsupportedError) throw e;
      if (e instanceof KilnError) this.fail(`${opName}: ${e.message}`);
      throw e;
    }
  }

  /** The outputs of a multi-output op node. */
  opN(opName: string, args: Record<string, unknown>): Symbol[] {
    const s = this.op(opName, args);
    return s.outputs.map((e) => new Symbol([e]));
  }
}
