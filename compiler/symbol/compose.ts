/**
 * Building op nodes from the user's named arguments: params are printed to MXNet strings,
 * missing inputs become variables `<node>_<input>`, unnamed nodes get automatic names.
 */
import { Node, NodeEntry } from "../ir/node.js";
import { getOp, inputNamesOf, OpDef } from "../ops/registry.js";
import { parseParams, printUserParams } from "../ops/params.js";
import { GraphError } from "../base/errors.js";
import { currentNameManager } from "./naming.js";
import { Symbol } from "./symbol.js";

/** Keys every op accepts besides its params and inputs. */
export interface CommonArgs {
  /** The node's name; automatic (`<op><n>`) when absent. */
  name?: string;
  /** Extra string attributes stored on the node (and copied to auto-created variables). */
  attr?: Record<string, string>;
}

function asEntry(v: unknown, where: string): NodeEntry {
  if (!(v instanceof Symbol)) throw new GraphError(`${where} must be a Symbol, got ${describe(v)}`);
  if (v.outputs.length !== 1) throw new GraphError(`${where} must be a single-output symbol, got ${v.outputs.length} outputs (${v.listOutputs().join(", ")})`);
  return v.outputs[0];
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  return v === null ? "null" : typeof v;
}

/**
 * Creates a node of `opName` from `{ ...inputs, ...params, name?, attr? }`. `hint` is the
 * automatic-name stem (default: the lowercased op name).
 */
export function createOp(opName: string, args: Record<string, unknown>, hint?: string): Symbol {
  const op: OpDef = getOp(opName);
  const where = `operator ${args.name ?? opName}`;
  const paramArgs: Record<string, unknown> = {};
  const inputArgs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (k === "name" || k === "attr" || v === undefined) continue;
    if (k in op.params) paramArgs[k] = v;
    else if (op.variadic ? k === "data" : (op.inputs as readonly string[]).includes(k)) inputArgs[k] = v;
    else
      throw new GraphError(
        `${where} (${op.name}): unknown argument "${k}"; inputs: ${op.variadic ? "data (Symbol[])" : op.inputs.join(", ") || "none"}; params: ${Object.keys(op.params).join(", ") || "none"}`,
      );
  }
  let variadicInputs: NodeEntry[] | undefined;
  if (op.variadic) {
    const data = inputArgs.data;
    if (!Array.isArray(data) || data.length === 0) throw new GraphError(`${where} (${op.name}): "data" must be a non-empty array of symbols`);
    variadicInputs = data.map((d, i) => asEntry(d, `${where} (${op.name}) data[${i}]`));
    const given = paramArgs[op.variadic.countParam];
    if (given !== undefined && given !== data.length)
      throw new GraphError(`${where} (${op.name}): ${op.variadic.countParam}=${given} but ${data.length} inputs were given`);
    paramArgs[op.variadic.countParam] = data.length;
  }
  const userAttr = (args.attr as Record<string, string> | undefined) ?? {};
  const attrs = { ...userAttr, ...printUserParams(op.params, paramArgs, `${where} (${op.name})`) };
  const name = currentNameManager().get(args.name as string | undefined, hint ?? opName.toLowerCase());
  const params = parseParams(op.params, attrs, `operator ${name} (${op.name})`);
  const inputs =
    variadicInputs ??
    inputNamesOf(op, params).map((inName) => {
      const v = inputArgs[inName];
      if (v !== undefined) return asEntry(v, `operator ${name} (${op.name}) input "${inName}"`);
      return new Node(null, `${name}_${inName}`, { ...attrs }, []).entry(0);
    });
  for (const k of Object.keys(inputArgs))
    if (!op.variadic && !inputNamesOf(op, params).includes(k))
      throw new GraphError(`operator ${name} (${op.name}): input "${k}" is not used with these params (inputs: ${inputNamesOf(op, params).join(", ")})`);
  const node = new Node(op, name, attrs, inputs);
  return new Symbol(Array.from({ length: node.numVisibleOutputs }, (_, i) => node.entry(i)));
}
