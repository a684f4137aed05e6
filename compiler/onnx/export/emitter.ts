/**
 * What an op's emitter sees and does: the Kiln node (its parsed params, input and output
 * shapes), the ONNX value names of its inputs and outputs, and a way to add ONNX nodes and
 * constants. Emitters are registered by Kiln op name (ops/*.ts, one family per file) and
 * throw `ctx.unsupported(reason)` for a feature they do not write.
 */
import type { Node } from "../../ir/node.js";
import type { AttributeObject } from "./writer.js";

export type Attrs = Record<string, Omit<AttributeObject, "name"> | undefined>;

export interface EmitCtx {
  readonly node: Node;
  readonly name: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly opset: number;
  /** The inferred shape of input `i`. */
  inShape(i: number): number[];
  /** The inferred shape of output `i`. */
  outShape(i?: number): number[];
  /** The ONNX value holding input `i` (a graph input, an initializer or an earlier node's output). */
  input(i: number): string;
  /** The parameter values behind input `i` when it is a parameter (an initializer), else undefined. */
  constValues(i: number): ArrayLike<number> | undefined;
  /** The ONNX value this node's output `i` must end in. */
  output(i?: number): string;
  /** A fresh value name for an intermediate result of this node. */
  temp(suffix: string): string;
  /** A new float32 (or int64) initializer; returns its name. */
  constant(suffix: string, dims: readonly number[], values: ArrayLike<number>, type?: "float" | "int64"): string;
  /** Adds an ONNX node. */
  add(opType: string, inputs: string[], outputs: string[], attrs?: Attrs): void;
  /** Stops this node: export lists it as unsupported with `reason`. */
  unsupported(reason: string): never;
}

export type Emitter = (ctx: EmitCtx) => void;

const EMITTERS = new Map<string, Emitter>();

/** Registers emitters by Kiln op name (the canonical name: `node.op.name`). */
export function defineEmitters(table: Record<string, Emitter>): void {
  for (const [op, e] of Object.entries(table)) {
    if (EMITTERS.has(op)) throw new Error(`ONNX export: two emitters for ${op}`);
    EMITTERS.set(op, e);
  }
}

export function findEmitter(op: string): Emitter | undefined {
  return EMITTERS.get(op);
}

/** The Kiln ops export writes, sorted. */
export function exportedOps(): string[] {
  return [...EMITTERS.keys()].sort();
}

/** A positive-int tuple param of a windowed op, `fill` where MXNet leaves it empty. */
export function tuple(ctx: EmitCtx, key: string, n: number, fill: number): number[] {
  const v = (ctx.params[key] as number[] | null | undefined) ?? [];
  if (v.length === 0) return new Array<number>(n).fill(fill);
  if (v.length !== n) ctx.unsupported(`${key} has ${v.length} entries for ${n} spatial dims`);
  return [...v];
}
