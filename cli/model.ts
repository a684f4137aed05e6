/** Loading what the commands work on: a symbol file, a .params file, input shapes. */
import { existsSync, statSync } from "node:fs";
import { basename } from "node:path";
import type { Argv } from "yargs";
import { sym, nd, Symbol, NDArray, KilnError } from "../index.js";
import { UsageError, parseShapeOptions } from "./format.js";

/** Throws a usage error unless `path` is a readable file. */
export function requireFile(path: string, what: string): void {
  if (!existsSync(path)) throw new UsageError(`${what} ${path} does not exist`);
  if (!statSync(path).isFile()) throw new UsageError(`${what} ${path} is not a file`);
}

/** Loads an MXNet symbol JSON file; errors name the file. */
export function loadSymbol(path: string): Symbol {
  requireFile(path, "symbol file");
  try {
    return sym.load(path);
  } catch (e) {
    if (e instanceof KilnError) throw new KilnError(`${path}: ${e.message}`);
    if (e instanceof SyntaxError) throw new KilnError(`${path}: not valid JSON: ${e.message}`);
    throw e;
  }
}

export interface Params {
  args: Record<string, NDArray>;
  aux: Record<string, NDArray>;
}

/** Loads a .params file into arguments and aux states (MXNet's `arg:`/`aux:` prefixes; unprefixed names are arguments). */
export function loadParams(path: string): Params {
  requireFile(path, "params file");
  const loaded = nd.load(path);
  if (Array.isArray(loaded)) throw new KilnError(`${path}: holds ${loaded.length} unnamed arrays; a .params file names each array (arg:NAME or aux:NAME)`);
  const out: Params = { args: {}, aux: {} };
  for (const [k, v] of Object.entries(loaded)) {
    if (k.startsWith("aux:")) out.aux[k.slice(4)] = v;
    else out.args[k.startsWith("arg:") ? k.slice(4) : k] = v;
  }
  return out;
}

/**
 * Input shapes from `--shape` options, checked against the symbol's arguments; shapes of
 * parameters present in `params` are added for arguments not named on the command line.
 */
export function inputShapes(net: Symbol, specs: readonly string[], params?: Params): Record<string, number[]> {
  const shapes = parseShapeOptions(specs);
  const args = net.listArguments();
  for (const name of Object.keys(shapes))
    if (!args.includes(name)) throw new UsageError(`--shape ${name}=...: the symbol has no argument ${name} (arguments: ${args.join(", ")})`);
  if (params) {
    const known = args.filter((name) => params.args[name]);
    if (known.length === 0 && Object.keys(params.args).length > 0)
      throw new KilnError(`the .params file holds none of the network's arguments (it has ${Object.keys(params.args).slice(0, 4).join(", ")}…; the network needs ${args.slice(0, 4).join(", ")}…)`);
    for (const name of known) if (!(name in shapes)) shapes[name] = [...params.args[name].shape];
  }
  return shapes;
}

/** `resnet-18` from `.../resnet-18-symbol.json`. */
export function modelStem(path: string): string {
  return basename(path).replace(/(-symbol)?\.json$/i, "");
}

/** The repeatable --shape option every model command takes. */
export function withShapeOption<T>(y: Argv<T>, describe = "input shape, e.g. data=1,3,224,224 (repeatable)") {
  return y.option("shape", { type: "string", array: true, default: [] as string[], describe });
}
