/**
 * A stage computes one output tensor from input tensors: elementwise (a body per output
 * element), a reduction (a value per output element and reduction point, combined), or a
 * scatter (values added at computed output positions). Op rows describe their outputs as
 * stages through `compute`; fusion inlines producer stages into consumers; codegen renders
 * a stage as a loop nest.
 */
import { DType } from "../base/dtype.js";
import { Expr, Var, load, v } from "./expr.js";

export interface TensorType {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** A loop of a reduction or scatter domain. */
export interface Axis {
  readonly name: string;
  readonly extent: number;
}

export type ReduceOp = "sum" | "prod" | "max" | "min" | "argmax" | "argmin";

export type StageBody =
  /** out[i…] = value */
  | { readonly kind: "map"; readonly value: Expr }
  /**
   * out[i…] = post(⊕ over axes of value). For argmax/argmin the result is the flat index
   * (row-major over `axes`) of the first extreme value. `post` reads the result as var "acc".
   */
  | { readonly kind: "reduce"; readonly op: ReduceOp; readonly axes: readonly Axis[]; readonly value: Expr; readonly post?: Expr }
  /** out = 0; then for every point of `axes`: out[index…] += value (index may repeat). */
  | { readonly kind: "scatter"; readonly axes: readonly Axis[]; readonly index: readonly Expr[]; readonly value: Expr };

export interface Stage {
  readonly inputs: readonly TensorType[];
  readonly out: TensorType;
  /** Names of the output index variables, one per output dim (unused for scatter). */
  readonly vars: readonly string[];
  readonly body: StageBody;
}

/** Output index variable names of a rank: i0, i1, … */
export function indexVars(rank: number): Var[] {
  return Array.from({ length: rank }, (_, d) => v(`i${d}`));
}

/** An input of a compute rule: its type and a way to read it. */
export interface TensorHandle extends TensorType {
  at(index: readonly Expr[]): Expr;
}

/** What an op row's `compute` sees. */
export interface ComputeCtx {
  readonly inputs: readonly TensorHandle[];
  readonly outputs: readonly TensorType[];
  /** Output index variables for output `i`. */
  index(i?: number): Var[];
  /** Fresh reduction axes r0, r1, … of the given extents. */
  axes(...extents: number[]): Axis[];
}

export function makeComputeCtx(inputs: readonly TensorType[], outputs: readonly TensorType[]): ComputeCtx {
  let next = 0;
  return {
    inputs: inputs.map((t, slot) => ({ ...t, at: (index: readonly Expr[]) => load(slot, index) })),
    outputs,
    index: (i = 0) => indexVars(outputs[i].shape.length),
    axes: (...extents) => extents.map((extent) => ({ name: `r${next++}`, extent })),
  };
}

/** Builds the Stage of output `i` from a row's body. */
export function stageOf(inputs: readonly TensorType[], out: TensorType, body: StageBody): Stage {
  return { inputs, out, vars: indexVars(out.shape.length).map((x) => x.name), body };
}
