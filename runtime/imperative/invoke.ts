/**
 * One imperative call (MXNet's `_imperative_invoke`): an op applied to NDArrays. The call
 * becomes a one-op symbol over variables named after the op's inputs, bound on the inputs'
 * context with their shapes and dtypes and run through the same pipeline as any executor
 * (compiled C++ on cpu(), CUDA on gpu(), the float64 interpreter on reference()). The bound
 * executor is memoized (cache.ts), so repeated calls with the same op, params, shapes, dtypes
 * and context compile once.
 *
 * Calls run as MXNet's imperative mode with autograd off: inference (isTrain=false). Dropout
 * is the identity, BatchNorm normalizes with the moving statistics it is given (and does not
 * update them), loss ops return their forward value (SoftmaxOutput: the softmax).
 */
import { Symbol } from "../../compiler/symbol/symbol.js";
import { Variable } from "../../compiler/symbol/sym.js";
import { createOp } from "../../compiler/symbol/compose.js";
import { withNameManager } from "../../compiler/symbol/naming.js";
import { getOp, OpDef } from "../../compiler/ops/registry.js";
import { printUserParams } from "../../compiler/ops/params.js";
import { shapeToString, shapesEqual } from "../../compiler/base/shape.js";
import type { DType } from "../../compiler/base/dtype.js";
import { GraphError, KilnError } from "../../compiler/base/errors.js";
import { NDArray } from "../ndarray.js";
import { Context, cpu } from "../context.js";
import { imperativeCache, ImperativeEntry } from "./cache.js";
// The binders of reference(), cpu() and gpu(): imperative calls bind like any symbol.
import "../executor/reference.js";
import "../executor/compiled_binder.js";

/** Ops whose result is always a list, whatever the output count (MXNet's split with num_outputs=1 aside). */
export const LIST_RESULT_OPS: ReadonlySet<string> = new Set(["SliceChannel"]);

interface Call {
  op: OpDef;
  where: string;
  /** Inputs by variable name, in the op's order (`arg0`, `arg1`, … for variadic ops). */
  inputs: { name: string; array: NDArray }[];
  /** Param values as the caller gave them (for createOp) and printed (for the key). */
  params: Record<string, unknown>;
  attrs: Record<string, string>;
  ctx: Context;
  out: NDArray[] | undefined;
}

function describe(v: unknown): string {
  if (v instanceof NDArray) return String(v);
  if (Array.isArray(v)) return "an array";
  if (v instanceof Symbol) return "a Symbol (use sym.* for symbols)";
  return v === null ? "null" : typeof v;
}

function inputsText(inputs: Call["inputs"]): string {
  return inputs.length === 0 ? "no inputs" : `inputs ${inputs.map((i) => `${i.name}: ${i.array.dtype}${shapeToString(i.array.shape)}`).join(", ")}`;
}

/** Sorts the caller's argument object into inputs, params, `out` and `ctx`, checking each. */
function parseCall(op: OpDef, where: string, raw: unknown): Call {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new GraphError(`${where} takes one argument object ({ inputs…, params… }), got ${describe(raw)}`);
  const inputs: Call["inputs"] = [];
  const params: Record<string, unknown> = {};
  let out: NDArray[] | undefined;
  let ctxOpt: Context | undefined;
  const asArray = (v: unknown, what: string): NDArray => {
    if (!(v instanceof NDArray)) throw new GraphError(`${where}: ${what} must be an NDArray, got ${describe(v)}`);
    return v;
  };
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (v === undefined) continue;
    if (k === "out") {
      out = Array.isArray(v) ? v.map((o, i) => asArray(o, `out[${i}]`)) : [asArray(v, "out")];
    } else if (k === "ctx" && v instanceof Context) {
      // Ops with a `ctx` string param (_zeros) get the run context here, as MXNet's ctx=.
      ctxOpt = v;
    } else if (k in op.params) {
      params[k] = v;
    } else if (op.variadic && k === "data") {
      if (!Array.isArray(v) || v.length === 0) throw new GraphError(`${where}: "data" must be a non-empty array of NDArrays, got ${describe(v)}`);
      v.forEach((a, i) => inputs.push({ name: `arg${i}`, array: asArray(a, `data[${i}]`) }));
    } else if (!op.variadic && (op.inputs as readonly string[]).includes(k)) {
      inputs.push({ name: k, array: asArray(v, `input "${k}"`) });
    } else {
      throw new GraphError(
        `${where} (${op.name}): unknown argument "${k}"; inputs: ${op.variadic ? "data (NDArray[])" : op.inputs.join(", ") || "none"}; params: ${Object.keys(op.params).join(", ") || "none"}; options: out, ctx`,
      );
    }
  }
  if (!op.variadic) inputs.sort((a, b) => (op.inputs as readonly string[]).indexOf(a.name) - (op.inputs as readonly string[]).indexOf(b.name));
  else {
    const c = op.variadic.countParam;
    if (params[c] !== undefined && params[c] !== inputs.length)
      throw new GraphError(`${where} (${op.name}): ${c}=${String(params[c])} but ${inputs.length} inputs were given`);
    params[c] = inputs.length;
  }
  const ctx = ctxOpt ?? inputs[0]?.array.ctx ?? cpu();
  const stray = inputs.filter((i) => !i.array.ctx.equals(ctx));
  if (stray.length > 0)
    throw new KilnError(
      `${where} (${op.name}): all inputs must be on one context, got ${inputs.map((i) => `${i.name}: ${i.array.dtype}${shapeToString(i.array.shape)} on ${i.array.ctx}`).join(", ")}${ctxOpt ? ` with ctx=${ctxOpt}` : ""}`,
    );
  const attrs = printUserParams(op.params, params, `${where} (${op.name})`);
  return { op, where, inputs, params, attrs, ctx, out };
}

function cacheKey(c: Call): string {
  const attrs = Object.keys(c.attrs)
    .sort()
    .map((k) => `${k}=${c.attrs[k]}`)
    .join(";");
  const ins = c.inputs.map((i) => `${i.name}:${i.array.dtype}(${i.array.shape.join(",")})`).join(";");
  return `${c.op.name}|${attrs}|${ins}|${c.ctx}`;
}

/** Builds the one-op symbol and binds it (no compilation yet: that happens on the first run). */
function buildEntry(c: Call): ImperativeEntry {
  const args: Record<string, unknown> = { ...c.params };
  if (c.op.variadic) args.data = c.inputs.map((i) => Variable(i.name));
  else for (const i of c.inputs) args[i.name] = Variable(i.name);
  // A fixed node name under a private name manager: imperative calls leave the user's
  // automatic names alone, and an input the caller left out shows as `<node>_<input>`.
  const node = c.op.name.toLowerCase();
  args.name = node;
  const symbol = withNameManager(() => createOp(c.op.name, args));
  const given = new Set(c.inputs.map((i) => i.name));
  const argNames = symbol.listArguments();
  const auxNames = symbol.listAuxiliaryStates();
  const wanted = [...argNames, ...auxNames];
  const inputName = (n: string): string => (n.startsWith(`${node}_`) ? n.slice(node.length + 1) : n);
  const missing = wanted.filter((n) => !given.has(n)).map(inputName);
  if (missing.length > 0)
    throw new GraphError(
      `missing input${missing.length > 1 ? "s" : ""} ${missing.map((m) => `"${m}"`).join(", ")} (NDArray); with these params it takes ${wanted.map(inputName).join(", ")}`,
    );
  const shapes: Record<string, readonly number[]> = {};
  const typeDict: Record<string, DType> = {};
  for (const i of c.inputs) ((shapes[i.name] = i.array.shape), (typeDict[i.name] = i.array.dtype));
  const exe = symbol.simpleBind({ ctx: c.ctx, shapes, typeDict, gradReq: "null" });
  const argDict = exe.argDict;
  const auxDict = exe.auxDict;
  for (const i of c.inputs) {
    const a = argDict[i.name] ?? auxDict[i.name];
    if (!shapesEqual(a.shape, i.array.shape) || a.dtype !== i.array.dtype)
      throw new KilnError(`input "${i.name}" is ${i.array.dtype}${shapeToString(i.array.shape)} but the op infers ${a.dtype}${shapeToString(a.shape)} for it`);
  }
  const bytes = [...exe.argArrays, ...exe.auxArrays, ...exe.outputs].reduce((s, a) => s + a.byteLength, 0);
  return {
    exe,
    args: argNames.map((name) => ({ name, array: argDict[name] })),
    aux: auxNames.map((name) => ({ name, array: auxDict[name] })),
    bytes,
  };
}

function checkOut(c: Call, results: readonly NDArray[]): void {
  const out = c.out!;
  if (out.length !== results.length)
    throw new KilnError(`out= has ${out.length} array${out.length === 1 ? "" : "s"}, the op has ${results.length} output${results.length === 1 ? "" : "s"}`);
  out.forEach((o, i) => {
    const r = results[i];
    if (!shapesEqual(o.shape, r.shape) || o.dtype !== r.dtype || !o.ctx.equals(c.ctx))
      throw new KilnError(`out${out.length > 1 ? `[${i}]` : ""} is ${o} but output ${i} is NDArray${shapeToString(r.shape)} ${r.dtype} @${c.ctx}`);
  });
}

/**
 * Runs op `opName` on the arrays and params of `args` (`where`, e.g. "nd.dot", names the call
 * in errors): a new NDArray on the inputs' context, or one per visible output for multi-output
 * ops (a list for SliceChannel always; hidden outputs are never returned); with `out`, writes
 * there and returns it.
 */
export function invokeOp(opName: string, where: string, args: unknown): NDArray | NDArray[] {
  const op = getOp(opName);
  const c = parseCall(op, where, args);
  const key = cacheKey(c);
  let entry: ImperativeEntry;
  try {
    entry = imperativeCache.getOrBuild(key, () => buildEntry(c));
    if (c.out) checkOut(c, entry.exe.outputs);
  } catch (e) {
    throw withContext(e, c);
  }
  const byName = new Map(c.inputs.map((i) => [i.name, i.array]));
  for (const a of [...entry.args, ...entry.aux]) copyInto(byName.get(a.name)!, a.array);
  let outs: NDArray[];
  try {
    outs = entry.exe.forward(false);
  } catch (e) {
    // A program that failed to compile or run is not kept: the next call tries afresh.
    imperativeCache.drop(key);
    throw withContext(e, c);
  }
  const results = outs.map((o, i) => copyInto(o, c.out ? c.out[i] : new NDArray(o.shape, o.dtype, c.ctx)));
  return results.length === 1 && !LIST_RESULT_OPS.has(op.name) ? results[0] : results;
}

/** Copies values between same-shaped arrays: cpu() arrays of one dtype as bytes, the rest through copyTo. */
function copyInto(src: NDArray, dst: NDArray): NDArray {
  if (src.ctx.deviceType === "cpu" && dst.ctx.deviceType === "cpu" && src.dtype === dst.dtype) {
    const s = src.hostData();
    const d = dst.hostData();
    new Uint8Array(d.buffer, d.byteOffset, d.byteLength).set(new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
    return dst;
  }
  return src.copyTo(dst);
}

/** Kiln's own errors get the call and the input shapes prepended; anything else is a bug and passes unchanged. */
function withContext(e: unknown, c: Call): unknown {
  if (!(e instanceof KilnError)) return e;
  const head = `${c.where} (${c.op.name}, ${inputsText(c.inputs)})`;
  if (!e.message.startsWith(c.where)) e.message = `${head}: ${e.message}`;
  return e;
}
