/**
 * The weights an export bakes in: from a .params file (`arg:`/`aux:` prefixed names, as
 * MXNet's save_checkpoint writes them, or plain names as Gluon's save_parameters does), a
 * record of NDArrays (either naming), or MXNet's pair of arg and aux dicts.
 */
import { existsSync } from "node:fs";
import { KilnError } from "../../compiler/base/errors.js";
import { NDArray } from "../ndarray.js";
import { loadParams } from "../params_file.js";

/** What exportModel takes as weights. */
export type ExportParams = string | Record<string, NDArray> | { argParams: Record<string, NDArray>; auxParams?: Record<string, NDArray> };

/** Weights by name, arguments and aux states apart. */
export interface ResolvedParams {
  args: Map<string, NDArray>;
  aux: Map<string, NDArray>;
  /** Where they came from, for messages. */
  source: string;
}

function isPair(p: ExportParams): p is { argParams: Record<string, NDArray>; auxParams?: Record<string, NDArray> } {
  return typeof p === "object" && p !== null && "argParams" in p && !((p as Record<string, unknown>).argParams instanceof NDArray);
}

export function resolveParams(p: ExportParams): ResolvedParams {
  const args = new Map<string, NDArray>();
  const aux = new Map<string, NDArray>();
  if (isPair(p)) {
    for (const [k, v] of Object.entries(p.argParams)) args.set(k, v);
    for (const [k, v] of Object.entries(p.auxParams ?? {})) aux.set(k, v);
    return { args, aux, source: "argParams/auxParams" };
  }
  let record: Record<string, NDArray>;
  let source = "params";
  if (typeof p === "string") {
    if (!existsSync(p)) throw new KilnError(`export: the params file ${p} does not exist`);
    const loaded = loadParams(p);
    if (Array.isArray(loaded)) throw new KilnError(`export: the params file ${p} holds ${loaded.length} unnamed arrays; export needs named weights (arg:<name>, aux:<name> or plain names)`);
    record = loaded;
    source = p;
  } else if (typeof p === "object" && p !== null) record = p;
  else throw new KilnError(`export: params must be a .params path, a record of NDArrays or { argParams, auxParams }, got ${typeof p}`);
  for (const [k, v] of Object.entries(record)) {
    if (!(v instanceof NDArray)) throw new KilnError(`export: params["${k}"] is not an NDArray`);
    if (k.startsWith("aux:")) aux.set(k.slice(4), v);
    else if (k.startsWith("arg:")) args.set(k.slice(4), v);
    else {
      // A plain name may be either; the symbol decides.
      args.set(k, v);
      if (!aux.has(k)) aux.set(k, v);
    }
  }
  return { args, aux, source };
}
