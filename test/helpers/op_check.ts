/**
 * Checks an op (or any small graph) on the reference executor: forward against given
 * values, backward against central finite differences in float64. Every op node a check
 * touches is recorded, and the coverage test asserts that every registered op was checked.
 */
import { expect } from "chai";
import { Symbol, reference, NDArray } from "../../index.js";
import type { DType } from "../../index.js";
import { checkComputes } from "./compute_check.js";
import { checkCompiled, snapshot } from "./compiled_check.js";

export const forwardChecked = new Set<string>();
export const gradientChecked = new Set<string>();

/** Records the ops that produce the checked outputs: an op counts as tested only when it is the subject of a check. */
function record(symbol: Symbol, into: Set<string>): void {
  for (const e of symbol.outputs) if (e.node.op) into.add(e.node.op.name);
}

/** A small deterministic generator for test data. */
export function rng(seed = 1): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export interface ValuesSpec {
  /** Shapes of the inputs to give; others are inferred. */
  shapes: Record<string, number[]>;
  /** Fixed values for some arguments (labels, indices); the others are random. */
  values?: Record<string, number[]>;
  /** Value range of random arguments, per name (default [-1, 1]). */
  range?: Record<string, [number, number]>;
  /** Initial aux values by name (default: zeros for means, ones for variances). */
  aux?: Record<string, number[]>;
  seed?: number;
}

function bindFloat64(symbol: Symbol, spec: ValuesSpec, gradReq: Record<string, "write" | "null">) {
  const typeDict: Record<string, DType> = {};
  for (const n of symbol.listArguments()) typeDict[n] = "float64";
  const exe = symbol.simpleBind({ ctx: reference(), shapes: spec.shapes, gradReq, typeDict });
  const r = rng(spec.seed ?? 7);
  for (const [name, arr] of Object.entries(exe.argDict)) {
    const fixed = spec.values?.[name];
    if (fixed) arr.set(fixed);
    else {
      const [lo, hi] = spec.range?.[name] ?? [-1, 1];
      arr.set(Array.from({ length: arr.size }, () => lo + (hi - lo) * r()));
    }
  }
  for (const [name, arr] of Object.entries(exe.auxDict)) {
    const given = spec.aux?.[name];
    arr.set(given ?? (name.endsWith("var") ? 1 : 0));
  }
  return exe;
}

export interface ForwardSpec extends ValuesSpec {
  isTrain?: boolean;
  /** Expected outputs in order (flat), compared with a tolerance. */
  expected: number[][];
  /** Expected output shapes. */
  expectedShapes?: number[][];
  tol?: number;
}

/** Runs forward on the reference executor and compares with independently computed values. */
export function checkForward(symbol: Symbol, spec: ForwardSpec): NDArray[] {
  record(symbol, forwardChecked);
  const exe = bindFloat64(symbol, spec, {});
  const start = snapshot(exe);
  const outs = exe.forward(spec.isTrain ?? false);
  checkComputes(exe);
  checkCompiled({
    symbol,
    shapes: spec.shapes,
    gradReq: {},
    isTrain: spec.isTrain ?? false,
    start,
    ref: exe,
    refOutputs: outs.map((o) => o.toArray()),
    refAux: snapshot(exe).aux,
  });
  const tol = spec.tol ?? 1e-9;
  spec.expected.forEach((want, i) => {
    const got = outs[i].toArray();
    expect(got.length, `output ${i} length`).to.equal(want.length);
    got.forEach((g, k) => {
      const w = want[k];
      if (Number.isNaN(w)) expect(Number.isNaN(g), `output ${i}[${k}] should be NaN`).to.equal(true);
      else expect(Math.abs(g - w) <= tol * Math.max(1, Math.abs(w)), `output ${i}[${k}]: got ${g}, want ${w}`).to.equal(true);
    });
  });
  if (spec.expectedShapes) expect(outs.map((o) => [...o.shape])).to.deep.equal(spec.expectedShapes);
  return outs;
}

export interface GradientSpec extends ValuesSpec {
  /** Arguments not differentiated (integer inputs such as labels or indices). */
  noGrad?: string[];
  isTrain?: boolean;
  eps?: number;
  rtol?: number;
  atol?: number;
}

/**
 * Compares the executor's gradients with central differences of L = Σ_i Σ out_i · H_i for
 * random head gradients H_i. Not for loss ops, whose gradient is not their output's.
 */
export function checkGradient(symbol: Symbol, spec: GradientSpec): void {
  record(symbol, gradientChecked);
  const argNames = symbol.listArguments();
  const wrt = argNames.filter((n) => !(spec.noGrad ?? []).includes(n));
  const gradReq = Object.fromEntries(argNames.map((n) => [n, wrt.includes(n) ? "write" : "null"])) as Record<string, "write" | "null">;
  const exe = bindFloat64(symbol, spec, gradReq);
  const isTrain = spec.isTrain ?? true;
  const start = snapshot(exe);
  const outs = exe.forward(isTrain);
  const refOutputs = outs.map((o) => o.toArray());
  const refAux = snapshot(exe).aux;
  const r = rng(99);
  const heads = outs.map((o) => Array.from({ length: o.size }, () => 2 * r() - 1));
  const headArrays = outs.map((o, i) => {
    const h = new NDArray(o.shape, "float64", reference());
    return h.set(heads[i]);
  });
  exe.backward(headArrays);
  checkComputes(exe);
  checkCompiled({
    symbol,
    shapes: spec.shapes,
    gradReq,
    isTrain,
    start,
    ref: exe,
    heads: headArrays,
    refGrads: Object.fromEntries(Object.entries(exe.gradDict).map(([k, v]) => [k, v.toArray()])),
    refOutputs,
    refAux,
  });
  const aux0 = Object.fromEntries(Object.entries(exe.auxDict).map(([k, v]) => [k, v.toArray()]));
  const objective = (): number => {
    for (const [k, v] of Object.entries(exe.auxDict)) v.set(aux0[k]);
    const o = exe.forward(isTrain);
    let s = 0;
    o.forEach((arr, i) => arr.toArray().forEach((x, k) => (s += x * heads[i][k])));
    return s;
  };
  const eps = spec.eps ?? 1e-6;
  const rtol = spec.rtol ?? 1e-4;
  const atol = spec.atol ?? 1e-6;
  for (const name of wrt) {
    const arg = exe.argDict[name];
    const analytic = exe.gradDict[name].toArray();
    const x = arg.toArray();
    for (let k = 0; k < x.length; k++) {
      const saved = x[k];
      x[k] = saved + eps;
      arg.set(x);
      const up = objective();
      x[k] = saved - eps;
      arg.set(x);
      const down = objective();
      x[k] = saved;
      arg.set(x);
      const numeric = (up - down) / (2 * eps);
      const ok = Math.abs(analytic[k] - numeric) <= atol + rtol * Math.max(Math.abs(analytic[k]), Math.abs(numeric));
      expect(ok, `d/d${name}[${k}]: analytic ${analytic[k]}, numeric ${numeric}`).to.equal(true);
    }
  }
}
