/**
 * The imperative op functions merged into `nd`: one per registered public operator and alias
 * (MXNet's `mx.nd.<op>`), generated from the same registry rows as `sym.<Op>` and typed from
 * the same row types: the argument object is sym's, with NDArrays in place of Symbols, plus
 * `out` (write the result into given arrays) and `ctx` (the context of ops without inputs).
 */
import type { AnyRow, PublicNames, RowNamed, AllRows } from "../../compiler/ops/row_types.js";
import type { OpRow } from "../../compiler/ops/registry.js";
import { findOp } from "../../compiler/ops/registry.js";
import type { ParamArgs, ParamSchema } from "../../compiler/ops/params.js";
import { ALL_OP_MODULES } from "../../compiler/ops/all.js";
import type { NDArray } from "../ndarray.js";
import type { Context } from "../context.js";
import { invokeOp } from "./invoke.js";

/** Options every imperative op takes besides its inputs and params. */
export interface NDCommonArgs<Out> {
  /** Write the result here (shape, dtype and context must match) and return it, as MXNet's `out=`. */
  out?: Out;
  /** Context to run on; only needed for ops without inputs (default cpu()), else it must be the inputs'. */
  ctx?: Context;
}

type NDInputArgs<I extends string> = { [K in I]?: NDArray };

/** Params minus `ctx`, which ops such as `_zeros` record as a string: here it is the run context. */
type NDParams<S extends ParamSchema> = Omit<ParamArgs<S>, "ctx">;

/** The argument object of `nd.<op>`: MXNet's input names (NDArrays) and params, plus out and ctx. */
export type NDOpArgs<S extends ParamSchema, I extends string, C extends string, Out = NDArray> = [C] extends [never]
  ? NDParams<S> & NDInputArgs<I> & NDCommonArgs<Out>
  : Partial<NDParams<S>> & { data: NDArray[] } & NDCommonArgs<Out>;


/** Ops that return a list (SliceChannel/split, even with num_outputs=1, so that their type is one). */
type ListResultName = "SliceChannel" | "split";

/**
 * The function of one op: NDArray → NDArray for single-output ops, a list for split, and for
 * BatchNorm a list exactly when `output_mean_var: true` (output, mean, var).
 */
export type NDOpFunction<R, Name> =
  R extends OpRow<infer S, infer I, string, string, infer C>
    ? Name extends ListResultName
      ? (args: NDOpArgs<S, I, C, NDArray[]>) => NDArray[]
      : Name extends "BatchNorm"
        ? { (args: NDOpArgs<S, I, C, NDArray[]> & { output_mean_var: true }): NDArray[]; (args: NDOpArgs<S, I, C>): NDArray }
        : (args: NDOpArgs<S, I, C>) => NDArray
    : never;

// Same row walk as sym.ts's OpFunctions (kept in step with it).

/** Typed imperative operator functions, keyed by MXNet op name and alias. */
export type NDOpFunctions = { [Name in PublicNames<AllRows>]: NDOpFunction<RowNamed<AllRows, Name>, Name> };

/** One function per public op name and alias, each calling invokeOp. */
export function buildNdOps(): NDOpFunctions {
  const fns: Record<string, (args: unknown) => NDArray | NDArray[]> = {};
  for (const mod of ALL_OP_MODULES)
    for (const row of Object.values(mod) as AnyRow[]) {
      if (!row || typeof row !== "object" || typeof row.name !== "string" || !findOp(row.name)) continue;
      for (const n of [row.name, ...(row.aliases ?? [])]) {
        if (n.startsWith("_backward_")) continue;
        fns[n] = (args) => invokeOp(row.name, `nd.${n}`, args);
      }
    }
  return fns as unknown as NDOpFunctions;
}
