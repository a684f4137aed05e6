/**
 * The operator registry: one row per operator holding everything about it (params, inputs,
 * outputs, shape/type inference, gradient, fusion pattern, reference implementation).
 * Every pass, backend and test is driven from these rows.
 */
import { ParamSchema, ParamValues } from "./params.js";
import type { Node, NodeEntry } from "../ir/node.js";
import { Shape, mergeShapes, shapeToBracket } from "../base/shape.js";
import { DType } from "../base/dtype.js";
import { ShapeError, GraphError } from "../base/errors.js";
import { Tensor } from "./tensor.js";
import type { ComputeCtx, StageBody } from "../te/stage.js";

/** TVM's fusion pattern kinds, from most to least fusible. */
export type PatternKind = "elemwise" | "broadcast" | "injective" | "reduce" | "outEWiseFusable" | "opaque";

/** Shapes of one node's inputs and outputs while inference runs; ops refine them in place. */
export class ShapeCtx {
  constructor(
    readonly inputs: (Shape | undefined)[],
    readonly outputs: (Shape | undefined)[],
    readonly inputNames: readonly string[],
  ) {}

  in(i: number): Shape | undefined {
    return this.inputs[i];
  }

  out(i = 0): Shape | undefined {
    return this.outputs[i];
  }

  setIn(i: number, s: Shape | undefined): void {
    this.inputs[i] = merge(this.inputs[i], s, `input ${i} (${this.inputNames[i] ?? i})`);
  }

  setOut(i: number, s: Shape | undefined): void {
    this.outputs[i] = merge(this.outputs[i], s, `output ${i}`);
  }
}

function merge(old: Shape | undefined, inferred: Shape | undefined, what: string): Shape | undefined {
  const m = mergeShapes(old, inferred);
  if (!m.ok) throw new ShapeError(`Shape inconsistent for ${what}, Provided = ${shapeToBracket(old)}, inferred shape=${shapeToBracket(inferred)}`);
  return m.shape;
}

/** Element types of one node's inputs and outputs while type inference runs. */
export class TypeCtx {
  constructor(
    readonly inputs: (DType | undefined)[],
    readonly outputs: (DType | undefined)[],
    readonly inputNames: readonly string[],
  ) {}

  in(i: number): DType | undefined {
    return this.inputs[i];
  }

  out(i = 0): DType | undefined {
    return this.outputs[i];
  }

  setIn(i: number, t: DType | undefined): void {
    this.inputs[i] = mergeType(this.inputs[i], t, `input ${i} (${this.inputNames[i] ?? i})`);
  }

  setOut(i: number, t: DType | undefined): void {
    this.outputs[i] = mergeType(this.outputs[i], t, `output ${i}`);
  }

  /** The common rule: every input and output shares one type. */
  sameType(inputs: number[] = this.inputs.map((_, i) => i), outputs: number[] = this.outputs.map((_, i) => i)): void {
    let t: DType | undefined;
    for (const i of inputs) t ??= this.inputs[i];
    for (const o of outputs) t ??= this.outputs[o];
    if (t === undefined) return;
    for (const i of inputs) this.setIn(i, t);
    for (const o of outputs) this.setOut(o, t);
  }
}

function mergeType(old: DType | undefined, inferred: DType | undefined, what: string): DType | undefined {
  if (old === undefined) return inferred;
  if (inferred === undefined || inferred === old) return old;
  throw new ShapeError(`Type inconsistent for ${what}, Provided = ${old}, inferred type=${inferred}`);
}

/** What a gradient rule sees: the forward node, its entries, and a way to add graph nodes. */
export interface GradCtx<P> {
  readonly node: Node;
  readonly params: P;
  input(i: number): NodeEntry;
  output(i: number): NodeEntry;
  /** Gradient flowing into visible output i (a zeros node when nobody uses that output). */
  ograd(i?: number): NodeEntry;
  /** Adds a node of op `opName` (inputs in the op's order) and returns all its outputs. */
  op(opName: string, inputs: NodeEntry[], params?: Record<string, unknown>): NodeEntry[];
  /** The same, returning output 0. */
  op1(opName: string, inputs: NodeEntry[], params?: Record<string, unknown>): NodeEntry;
}

/** What a decomposition rule sees: the node, its inputs with their types, and a node builder. */
export interface DecomposeCtx {
  readonly node: Node;
  /** Whether the graph is compiled for training (BatchNorm batch statistics, Dropout masks). */
  readonly isTrain: boolean;
  /** Records that mutable input `inputIndex` (an aux state) takes the value of `entry` after the pass. */
  writeAux(inputIndex: number, entry: NodeEntry): void;
  input(i: number): NodeEntry;
  inputShape(i: number): Shape;
  inputType(i: number): DType;
  outputShape(i: number): Shape;
  outputType(i: number): DType;
  /** Adds a node of `opName` and returns all its outputs. */
  op(opName: string, inputs: NodeEntry[], params?: Record<string, unknown>): NodeEntry[];
  op1(opName: string, inputs: NodeEntry[], params?: Record<string, unknown>): NodeEntry;
  /**
   * A 1-element int64 seed the executor advances before every forward pass: the input of
   * `_random_uniform` for ops that draw random numbers (Dropout's mask).
   */
  randomSeed(): NodeEntry;
}

/** What a reference implementation sees besides its inputs. */
export interface RefCtx {
  readonly isTrain: boolean;
  readonly nodeName: string;
  /** The shape inference gave output i (ops such as _zeros whose params leave dims open need it). */
  outputShape(i: number): Shape;
  /** Uniform [0, 1) numbers from the executor's seeded generator. */
  random(): number;
  /** Records the new value of a mutated input (an auxiliary state) after this node runs. */
  writeAux(inputIndex: number, value: Tensor): void;
}

export interface OpDef<S extends ParamSchema = ParamSchema, I extends string = string> {
  readonly name: string;
  /** Other names MXNet files use for this op (legacy `_Plus`, aliases like `stop_gradient`). */
  readonly aliases?: readonly string[];
  readonly doc?: string;
  readonly params: S;
  /** Every input the op can take, in order (MXNet's names); empty for variadic ops. */
  readonly inputs: readonly I[];
  /** The inputs a given parameter set uses (FullyConnected without bias drops `bias`). */
  activeInputs?(p: ParamValues<S>): readonly I[];
  /** Variadic ops take `data: Symbol[]`, name their inputs `arg0`, `arg1`, … and record the count in this param. */
  readonly variadic?: { countParam: string };
  /** Indices of inputs that are mutated auxiliary states. */
  mutableInputs?(p: ParamValues<S>): number[];
  /** Names of all outputs including hidden ones; visible ones come first. */
  outputNames(p: ParamValues<S>): string[];
  numVisibleOutputs(p: ParamValues<S>): number;
  inferShape(ctx: ShapeCtx, p: ParamValues<S>): void;
  /** Defaults to every input and output sharing one type. */
  inferType?(ctx: TypeCtx, p: ParamValues<S>): void;
  /** Input gradients as graph nodes; null means zero. Absent: the op is not differentiable. */
  gradient?(g: GradCtx<ParamValues<S>>): (NodeEntry | null)[];
  /** Loss ops produce their gradient without a head gradient. */
  readonly isLoss?: boolean;
  readonly pattern: PatternKind;
  /**
   * The op as tensor-expression stage bodies, one per output (hidden ones too), over the
   * inferred shapes: what code generation lowers. Ops without it are rewritten first by
   * `decompose` into ops that have it.
   */
  compute?(ctx: ComputeCtx, p: ParamValues<S>): StageBody[];
  /**
   * Rewrites the node into a subgraph of simpler ops (BatchNorm into reductions and
   * broadcasts): returns one entry per output, or undefined to keep the node (and use
   * `compute`) for these params. Runs after shape inference, before fusion.
   */
  decompose?(d: DecomposeCtx, p: ParamValues<S>): NodeEntry[] | undefined;
  /** float64 forward on the reference interpreter; returns every output (hidden ones too). */
  forward(p: ParamValues<S>, inputs: Tensor[], ctx: RefCtx): Tensor[];
}

/** The names of a node's inputs under a parameter set. */
export function inputNamesOf(op: OpDef, p: Readonly<Record<string, unknown>>): string[] {
  if (op.variadic) {
    const n = p[op.variadic.countParam] as number;
    return Array.from({ length: n }, (_, i) => `arg${i}`);
  }
  return [...(op.activeInputs ? op.activeInputs(p) : op.inputs)];
}

/** Params of an op row. */
export type OpParams<O> = O extends OpDef<infer S> ? ParamValues<S> : never;

const registry = new Map<string, OpDef>();
const aliasOf = new Map<string, string>();

/**
 * A registered row, remembering its name, aliases and variadic count param as literal types
 * so that `sym` can offer one typed function per op.
 */
export type OpRow<S extends ParamSchema, I extends string, N extends string, A extends string, C extends string> = OpDef<S, I> & {
  readonly name: N;
  readonly aliases?: readonly A[];
  readonly variadic?: { countParam: C };
};

/** Declares an op row and registers it under its name and aliases. Internal ops are named `_backward_*`. */
export function defineOp<S extends ParamSchema, const I extends string, const N extends string, const A extends string = never, const C extends string = never>(
  row: OpRow<S, I, N, A, C>,
): OpRow<S, I, N, A, C> {
  for (const n of [row.name, ...(row.aliases ?? [])]) {
    if (registry.has(n) || aliasOf.has(n)) throw new Error(`operator ${n} is registered twice`);
  }
  registry.set(row.name, row as unknown as OpDef);
  for (const a of row.aliases ?? []) aliasOf.set(a, row.name);
  return row;
}

export function findOp(name: string): OpDef | undefined {
  return registry.get(name) ?? registry.get(aliasOf.get(name) ?? "");
}

export function getOp(name: string, where?: string): OpDef {
  const op = findOp(name);
  if (!op) throw new GraphError(`${where ? where + ": " : ""}unknown operator "${name}"`);
  return op;
}

/** Ops named `_backward_*` exist for gradients only and are not offered on `sym`. */
export function isInternalOp(op: OpDef): boolean {
  return op.name.startsWith("_backward_");
}

export function listOps(): OpDef[] {
  return [...registry.values()];
}

/** Helpers for the common row shapes. */
export const singleOutput = {
  outputNames: (): string[] => ["output"],
  numVisibleOutputs: (): number => 1,
};
