/**
 * Type-level walks over the registered rows, shared by the typed `sym.<Op>` and `nd.<Op>`
 * functions: every public op name (and alias), and the row behind each name.
 */
import type { OpRow } from "./registry.js";
import type { ALL_OP_MODULES } from "./all.js";

export type AnyRow = OpRow<any, any, any, any, any>;
export type NamesOf<R> = R extends OpRow<any, any, infer N, infer A, any> ? N | A : never;
/** Names a user may call: internal `_backward_*` rows excluded. */
export type PublicNames<R> = Exclude<NamesOf<R>, `_backward_${string}`>;
export type RowsOf<M> = M extends unknown ? { [K in keyof M]: M[K] extends AnyRow ? M[K] : never }[keyof M] : never;
export type RowNamed<R, Name> = R extends AnyRow ? (Name extends NamesOf<R> ? R : never) : never;
/** Every registered row. */
export type AllRows = RowsOf<(typeof ALL_OP_MODULES)[number]>;
