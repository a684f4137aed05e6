/**
 * Whole networks on cpu() (generated C++) against the reference executor: the same seeded
 * arguments go to both, the graph runs forward (and backward), and every output, aux update and
 * gradient must agree. Used by the shared-model and seed-network tests.
 *
 * The tolerance is relative to each array's magnitude: max |cpu − reference| ≤ rel · s with
 * s = max(max |reference|, 1e-2 · the largest magnitude among the arrays of its group (outputs,
 * aux states or gradients)). The floor matters only for arrays that are zero in exact arithmetic
 * (a bias whose gradient a following BatchNorm cancels, a fix_gamma gradient): their float32
 * values are rounding noise on the scale of the other arrays.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sym, Symbol, cpu, reference, nd, NDArray } from "../../index.js";
import type { Context, DType, Executor } from "../../index.js";
import "../../runtime/executor/compiled_binder.js";
import { MODELS_DIR } from "../helpers/paths.js";

/** A shared model file's symbol; with `noDropout`, every Dropout's p set to 0 (masks are random, see random.test). */
export function loadSymbolFile(name: string, noDropout = false): Symbol {
  const net = sym.fromJSON(readFileSync(join(MODELS_DIR, `${name}-symbol.json`), "utf8"));
  return noDropout ? withoutDropout(net) : net;
}

/** The symbol with every Dropout's p set to 0, so training runs are deterministic. */
export function withoutDropout(net: Symbol): Symbol {
  const json = JSON.parse(net.toJSON()) as { nodes: { op: string; attrs?: Record<string, string> }[] };
  for (const n of json.nodes) if (n.op === "Dropout") n.attrs = { ...n.attrs, p: "0" };
  return sym.fromJSON(JSON.stringify(json));
}

/** Trained weights from `<name>-<epoch>.params`, split into arguments and aux states. */
export function loadParams(name: string, epoch: string): { args: Record<string, NDArray>; aux: Record<string, NDArray> } {
  const params = nd.load(join(MODELS_DIR, `${name}-${epoch}.params`)) as Record<string, NDArray>;
  const args: Record<string, NDArray> = {};
  const aux: Record<string, NDArray> = {};
  for (const [k, v] of Object.entries(params)) (k.startsWith("aux:") ? aux : args)[k.replace(/^(arg|aux):/, "")] = v;
  return { args, aux };
}

export interface FillOptions {
  seed?: number;
  /** Arguments holding integers (class labels, Embedding indices): name pattern → values in [0, max). */
  ints?: [RegExp, number][];
}

/**
 * Seeded arguments that keep activations sane through deep stacks: weights uniform with
 * variance 1/fan_in, BatchNorm gamma in [0.5, 1.5] and beta in [−1, 1] (a beta of the order of
 * gamma keeps the gradients of gamma away from the cancellation a following BatchNorm causes),
 * biases in [−0.1, 0.1], other inputs in [−1, 1]; moving means 0 and variances 1.
 */
export function fillSeeded(exe: Executor, opts: FillOptions = {}): void {
  let s = (opts.seed ?? 11) >>> 0 || 1;
  const u = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 4294967296);
  for (const [name, arr] of Object.entries(exe.argDict)) {
    const int = opts.ints?.find(([re]) => re.test(name));
    const fan = arr.size / Math.max(1, arr.shape[0]);
    const [lo, hi] = name.endsWith("_weight")
      ? [-Math.sqrt(3 / fan), Math.sqrt(3 / fan)]
      : name.endsWith("_gamma")
        ? [0.5, 1.5]
        : name.endsWith("_bias")
          ? [-0.1, 0.1]
          : [-1, 1];
    const v = arr.dtype === "float64" ? new Float64Array(arr.size) : new Float32Array(arr.size);
    for (let i = 0; i < v.length; i++) v[i] = int ? Math.floor(u() * int[1]) : lo + (hi - lo) * u();
    arr.set(v);
  }
  for (const [name, arr] of Object.entries(exe.auxDict)) arr.set(name.endsWith("_var") ? 1 : 0);
}

function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}

/** Worst |got − want| over the scale; fails when it exceeds `rel`. Returns the ratio (in units of the scale). */
function compare(got: ArrayLike<number>, want: ArrayLike<number>, scale: number, rel: number, what: string): number {
  expect(got.length, `${what}: length`).to.equal(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  if (!(worst <= rel * scale)) expect.fail(`${what}: [${at}] got ${got[at]}, want ${want[at]} (|diff| ${worst.toExponential(2)} > ${rel} × scale ${scale.toExponential(2)})`);
  return scale > 0 ? worst / scale : 0;
}

/** Named arrays of one run, grouped; copied out so later runs cannot change them. */
interface RunValues {
  outputs: Map<string, ArrayLike<number>>;
  aux: Map<string, ArrayLike<number>>;
  grads: Map<string, ArrayLike<number>>;
}

function take(exe: Executor, grads: boolean): RunValues {
  // float64 copies (reference arrays hold float64 whatever their dtype), not boxed number[]s.
  const copy = (a: NDArray): ArrayLike<number> => a.toFloat64();
  return {
    outputs: new Map(exe.outputs.map((o, i) => [`output ${i}`, copy(o)])),
    aux: new Map(Object.entries(exe.auxDict).map(([k, v]) => [k, copy(v)])),
    grads: new Map(grads ? Object.entries(exe.gradDict).map(([k, v]) => [`gradient of ${k}`, copy(v)]) : []),
  };
}

export interface CompareOptions extends FillOptions {
  /** Training: forward with batch statistics, then backward (head gradients sin(k + i) for non-loss outputs). */
  train: boolean;
  /** Relative tolerance (default 1e-4). */
  rel?: number;
  /** Argument dtype for both executors (default: the graph's, float32). */
  dtype?: DType;
  /** Trained weights to use instead of seeded ones (the data stays seeded). */
  params?: { args: Record<string, NDArray>; aux: Record<string, NDArray> };
  /** Which compiled variants to run (default both). */
  fuse?: boolean[];
  /** Where the compiled runs go (default cpu()). */
  ctx?: Context;
}

/** Worst errors found, in units of each array's scale (for the log). */
export interface CompareReport {
  forward: number;
  backward: number;
  fusedVsUnfused: number;
  ms: { reference: number; compiled: number };
}

/**
 * Binds `net` on reference() and on cpu() (fused and unfused), runs both on the same seeded
 * arguments, and compares outputs, aux states and gradients with the reference and the fused
 * run with the unfused one.
 */
export function compareWithReference(net: Symbol, shapes: Record<string, number[]>, opts: CompareOptions): CompareReport {
  const rel = opts.rel ?? 1e-4;
  const gradReq = opts.train ? "write" : "null";
  const typeDict = opts.dtype ? Object.fromEntries(net.listArguments().map((n) => [n, opts.dtype!])) : undefined;
  let t0 = performance.now();
  const ref = net.simpleBind({ ctx: reference(), shapes, gradReq, typeDict });
  fillSeeded(ref, opts);
  if (opts.params) ref.copyParamsFrom(opts.params.args, opts.params.aux);
  const start = Object.entries(ref.argDict);
  const startAux = Object.fromEntries(Object.entries(ref.auxDict).map(([k, v]) => [k, v.toFloat64()]));
  ref.forward(opts.train);
  const heads = ref.outputs.map((o, i) => nd.array(Array.from({ length: o.size }, (_, k) => Math.sin(k + i)), { shape: o.shape, ctx: reference(), dtype: o.dtype }));
  if (opts.train) ref.backward(heads);
  const want = take(ref, opts.train);
  const refMs = performance.now() - t0;
  const scales = (group: Map<string, ArrayLike<number>>): Map<string, number> => {
    const own = new Map([...group].map(([k, v]) => [k, maxAbs(v)]));
    const top = Math.max(0, ...own.values());
    return new Map([...own].map(([k, s]) => [k, Math.max(s, 1e-2 * top)]));
  };
  const scale = { outputs: scales(want.outputs), aux: scales(want.aux), grads: scales(want.grads) };
  const report: CompareReport = { forward: 0, backward: 0, fusedVsUnfused: 0, ms: { reference: refMs, compiled: 0 } };
  const runs: RunValues[] = [];
  t0 = performance.now();
  for (const fuse of opts.fuse ?? [true, false]) {
    const exe = net.simpleBind({ ctx: opts.ctx ?? cpu(), shapes, gradReq, typeDict, compile: { fuse } });
    for (const [k, v] of start) v.copyTo(exe.argDict[k]);
    for (const [k, v] of Object.entries(startAux)) exe.auxDict[k].set(v);
    exe.forward(opts.train);
    if (opts.train) exe.backward(heads);
    const got = take(exe, opts.train);
    const where = fuse ? "fused" : "unfused";
    for (const g of ["outputs", "aux", "grads"] as const)
      for (const [k, w] of want[g]) {
        const r = compare(got[g].get(k)!, w, scale[g].get(k)!, rel, `${(opts.ctx ?? cpu()).toString()} (${where}) ${g === "aux" ? `aux ${k}` : k}`);
        if (g === "grads") report.backward = Math.max(report.backward, r);
        else report.forward = Math.max(report.forward, r);
      }
    runs.push(got);
    (exe as { dispose?: () => void }).dispose?.();
  }
  if (runs.length === 2)
    for (const g of ["outputs", "aux", "grads"] as const)
      for (const [k, a] of runs[0][g]) report.fusedVsUnfused = Math.max(report.fusedVsUnfused, compare(a, runs[1][g].get(k)!, scale[g].get(k)!, rel, `fused vs unfused ${k}`));
  report.ms.compiled = performance.now() - t0;
  if (process.env.KILN_TEST_VERBOSE)
    console.log(
      `      worst |diff|/scale: forward ${report.forward.toExponential(1)}, backward ${report.backward.toExponential(1)}, fused vs unfused ${report.fusedVsUnfused.toExponential(1)};` +
        ` reference ${(refMs / 1000).toFixed(1)} s, cpu ${(report.ms.compiled / 1000).toFixed(1)} s`,
    );
  return report;
}
