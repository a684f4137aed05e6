/**
 * Checkpoints as MXNet's `mx.model.save_checkpoint`/`load_checkpoint`: `prefix-symbol.json`
 * (the symbol's JSON) and `prefix-%04d.params` (the epoch, at least 4 digits) holding the
 * arguments as `arg:NAME` and the auxiliary states as `aux:NAME` (nd.save's format, V2).
 */
import { existsSync, readdirSync } from "node:fs";
import { basename, dirname } from "node:path";
import { KilnError } from "../../compiler/base/errors.js";
import { symbolFromJSON } from "../../compiler/symbol/json_read.js";
import { readTextFile } from "../../compiler/symbol/file_io.js";
import type { Symbol } from "../../compiler/symbol/symbol.js";
import { NDArray } from "../ndarray.js";
import { loadParams, saveParams } from "../params_file.js";

/** `prefix-symbol.json`. */
export function symbolPath(prefix: string): string {
  return `${prefix}-symbol.json`;
}

/** `prefix-%04d.params`. */
export function paramsPath(prefix: string, epoch: number): string {
  if (!Number.isInteger(epoch) || epoch < 0) throw new KilnError(`checkpoint epoch must be a non-negative integer, got ${epoch}`);
  return `${prefix}-${String(epoch).padStart(4, "0")}.params`;
}

/**
 * Writes `prefix-symbol.json` (unless `symbol` is null) and `prefix-%04d.params`. Arrays on
 * any context are written; returns the .params path.
 */
export function saveCheckpoint(
  prefix: string,
  epoch: number,
  symbol: Symbol | null,
  argParams: Record<string, NDArray>,
  auxParams: Record<string, NDArray>,
): string {
  const file = paramsPath(prefix, epoch);
  const dict: Record<string, NDArray> = {};
  for (const [kind, params] of [
    ["arg", argParams],
    ["aux", auxParams ?? {}],
  ] as const) {
    if (params === null || typeof params !== "object") throw new KilnError(`saveCheckpoint: ${kind}Params must be a record of NDArrays by name`);
    for (const [name, arr] of Object.entries(params)) {
      if (!(arr instanceof NDArray)) throw new KilnError(`saveCheckpoint: ${kind}Params.${name} is not an NDArray`);
      dict[`${kind}:${name}`] = arr;
    }
  }
  if (symbol) symbol.save(symbolPath(prefix));
  saveParams(file, dict);
  return file;
}

/** Reads a checkpoint written by Kiln or MXNet. Missing files fail naming the path (and the epochs that exist). */
export function loadCheckpoint(
  prefix: string,
  epoch: number,
): { symbol: Symbol; argParams: Record<string, NDArray>; auxParams: Record<string, NDArray> } {
  const symFile = symbolPath(prefix);
  const file = paramsPath(prefix, epoch);
  if (!existsSync(symFile)) throw new KilnError(`loadCheckpoint: symbol file ${symFile} not found`);
  if (!existsSync(file)) {
    const epochs = listEpochs(prefix);
    throw new KilnError(
      `loadCheckpoint: parameter file ${file} not found (${epochs.length ? `epochs saved under ${prefix}: ${epochs.join(", ")}` : `no ${basename(prefix)}-NNNN.params files next to it`})`,
    );
  }
  let symbol: Symbol;
  try {
    symbol = symbolFromJSON(readTextFile(symFile));
  } catch (e) {
    if (e instanceof Error) e.message = `${symFile}: ${e.message}`;
    throw e;
  }
  const loaded = loadParams(file);
  const argParams: Record<string, NDArray> = {};
  const auxParams: Record<string, NDArray> = {};
  if (Array.isArray(loaded)) {
    if (loaded.length === 0) return { symbol, argParams, auxParams };
    throw new KilnError(`loadCheckpoint: ${file} holds ${loaded.length} arrays without names; a checkpoint names them arg:NAME / aux:NAME`);
  }
  for (const [key, arr] of Object.entries(loaded)) {
    const colon = key.indexOf(":");
    if (colon < 0) throw new KilnError(`loadCheckpoint: ${file} holds an array named ${JSON.stringify(key)}; a checkpoint names them arg:NAME / aux:NAME`);
    const kind = key.slice(0, colon);
    const name = key.slice(colon + 1);
    if (kind === "arg") argParams[name] = arr;
    else if (kind === "aux") auxParams[name] = arr;
  }
  return { symbol, argParams, auxParams };
}

/** Epochs with a `prefix-NNNN.params` file, ascending. */
export function listEpochs(prefix: string): number[] {
  const dir = dirname(prefix);
  const base = basename(prefix);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const esc = base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`^${esc}-(\\d{4,})\\.params$`);
  return names
    .map((n) => re.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}
