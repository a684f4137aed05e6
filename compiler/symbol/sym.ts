/**
 * `sym`: one typed function per registered operator (MXNet's `mx.sym`), plus Variable,
 * Group, fromJSON and load. Functions are generated from the registry rows, so an op added
 * to a row module is on `sym` with its params and inputs typed.
 */
import type { AnyRow, PublicNames, RowNamed, AllRows } from "../ops/row_types.js";
import { OpRow, findOp } from "../ops/registry.js";
import { ParamArgs, ParamSchema } from "../ops/params.js";
import { DType, DTYPE_FLAG, checkDType } from "../base/dtype.js";
import { GraphError } from "../base/errors.js";
import { Node } from "../ir/node.js";
import { ALL_OP_MODULES } from "../ops/all.js";
import { Symbol } from "./symbol.js";
import { CommonArgs, createOp } from "./compose.js";
import { withNameManager, resetNames, NameManager } from "./naming.js";
import { symbolFromJSON } from "./json_read.js";
import { readTextFile } from "./file_io.js";
import { printShapeAttr } from "./hidden_attrs.js";
import { pythonFloat } from "../ops/params.js";

type InputArgs<I extends string> = { [K in I]?: Symbol };

/** The argument object of `sym.<Op>`: MXNet's input names and params, plus name and attr. */
export type OpArgs<S extends ParamSchema, I extends string, C extends string> = [C] extends [never]
  ? ParamArgs<S> & InputArgs<I> & CommonArgs
  : Partial<ParamArgs<S>> & { data: Symbol[] } & CommonArgs;


export type OpFunction<R> = R extends OpRow<infer S, infer I, string, string, infer C> ? (args: OpArgs<S, I, C>) => Symbol : never;



/** Typed operator functions, keyed by MXNet op name and alias. */
export type OpFunctions = { [Name in PublicNames<AllRows>]: OpFunction<RowNamed<AllRows, Name>> };

export interface VariableOptions {
  shape?: readonly number[];
  dtype?: DType;
  lr_mult?: number;
  wd_mult?: number;
  /** An initializer description, stored as `__init__` (e.g. `'["zero", {}]'` or "zeros"). */
  init?: string;
  /** Extra attributes, stored as given. */
  attr?: Record<string, string>;
}

/** A named input of the graph (MXNet's `mx.sym.Variable`); the name is used as given, never prefixed. */
export function Variable(name: string, opts: VariableOptions = {}): Symbol {
  if (typeof name !== "string" || name.length === 0) throw new GraphError("Variable needs a non-empty name");
  const attrs: Record<string, string> = { ...(opts.attr ?? {}) };
  if (opts.shape !== undefined) attrs.__shape__ = printShapeAttr(opts.shape);
  if (opts.dtype !== undefined) attrs.__dtype__ = String(DTYPE_FLAG[checkDType(opts.dtype, `Variable ${name}`)]);
  if (opts.lr_mult !== undefined) attrs.__lr_mult__ = pythonFloat(opts.lr_mult);
  if (opts.wd_mult !== undefined) attrs.__wd_mult__ = pythonFloat(opts.wd_mult);
  if (opts.init !== undefined) attrs.__init__ = opts.init;
  return new Symbol([new Node(null, name, attrs, []).entry(0)]);
}

/** Several symbols as one with all their outputs (MXNet's `mx.sym.Group`). */
export function Group(symbols: Symbol[]): Symbol {
  if (!Array.isArray(symbols) || symbols.length === 0) throw new GraphError("Group needs a non-empty array of symbols");
  return new Symbol(symbols.flatMap((s) => s.outputs));
}

function buildOpFunctions(): OpFunctions {
  const fns: Record<string, (args: Record<string, unknown>) => Symbol> = {};
  for (const mod of ALL_OP_MODULES)
    for (const row of Object.values(mod) as AnyRow[]) {
      if (!row || typeof row !== "object" || typeof row.name !== "string" || !findOp(row.name)) continue;
      for (const n of [row.name, ...(row.aliases ?? [])]) {
        if (n.startsWith("_backward_")) continue;
        fns[n] = (args) => createOp(row.name, args ?? {}, n.toLowerCase());
      }
    }
  return fns as unknown as OpFunctions;
}

export const sym = {
  ...buildOpFunctions(),
  Variable,
  var: Variable,
  Group,
  /** Parses MXNet symbol JSON (any version). */
  fromJSON: symbolFromJSON,
  /** Reads an MXNet `-symbol.json` file. */
  load: (path: string): Symbol => symbolFromJSON(readTextFile(path)),
  NameManager,
  withNameManager,
  resetNames,
};
