/**
 * Running a table case on typed arrays and on the interpreter: random inputs (seeded), the
 * expected output from evalStage, and the comparison rule per output dtype.
 */
import type { DType } from "../../compiler/base/dtype.js";
import { evalStage } from "../../compiler/te/interpret.js";
import { Tensor } from "../../compiler/ops/tensor.js";
import { HostArray, allocHost, readHost, writeHost } from "../../runtime/host_buffer.js";
import type { Case, Fill } from "./table.js";

/** mulberry32: a small seeded generator, so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A typed array of `dtype` filled per `fill`, and the values it holds as a float64 Tensor. */
export function makeInput(dtype: DType, shape: readonly number[], fill: Fill, next: () => number): { array: HostArray; tensor: Tensor } {
  const n = size(shape);
  const array = allocHost(dtype, n, false);
  const ints = fill.ints || !dtype.startsWith("float");
  for (let i = 0; i < n; i++) {
    const u = fill.lo + next() * (fill.hi - fill.lo);
    writeHost(array, dtype, i, ints ? Math.floor(u) : u, false);
  }
  (fill.special ?? []).forEach((s, j) => writeHost(array, dtype, (j * 7919) % n, s, false));
  const tensor = new Tensor(shape, Float64Array.from({ length: n }, (_, i) => readHost(array, dtype, i, false)));
  return { array, tensor };
}

export interface Prepared {
  inputs: HostArray[];
  out: HostArray;
  /** Expected output values (what the output array should read back as). */
  want: Float64Array;
}

/** Inputs, a starting output (random when accumulating, else zeros) and the expected result. */
export function prepareCase(c: Case, seed: number): Prepared {
  const next = rng(seed);
  const st = c.kernel.stage;
  const made = st.inputs.map((t, k) => makeInput(t.dtype, t.shape, c.fills[k], next));
  const n = size(st.out.shape);
  const out = allocHost(st.out.dtype, n, false);
  const start = new Float64Array(n);
  if (c.kernel.accumulate) {
    for (let i = 0; i < n; i++) writeHost(out, st.out.dtype, i, st.out.dtype.startsWith("float") ? next() * 2 - 1 : Math.floor(next() * 20 - 10), false);
    for (let i = 0; i < n; i++) start[i] = readHost(out, st.out.dtype, i, false);
  }
  const got = evalStage(st, made.map((m) => m.tensor));
  // Stored through the output's dtype: integers wrap, float32/float16 round.
  const stored = allocHost(st.out.dtype, n, false);
  for (let i = 0; i < n; i++) writeHost(stored, st.out.dtype, i, start[i] + got.data[i], false);
  const want = Float64Array.from({ length: n }, (_, i) => readHost(stored, st.out.dtype, i, false));
  return { inputs: made.map((m) => m.array), out, want };
}

/** Relative tolerance (with an absolute floor of the same size near zero) per output dtype; 0 = exact. */
export function tolerance(c: Case): number {
  const st = c.kernel.stage;
  const dtypes = [...st.inputs.map((t) => t.dtype), st.out.dtype];
  const f16 = dtypes.includes("float16") || JSON.stringify(st.body).includes('"float16"');
  if (f16) return 2e-3;
  if (!st.out.dtype.startsWith("float")) return 0;
  return dtypes.includes("float32") ? 1e-5 : 1e-12;
}

/** The first mismatch between the output array and the expected values, or undefined. */
export function mismatch(c: Case, p: Prepared): string | undefined {
  const dtype = c.kernel.stage.out.dtype;
  const tol = tolerance(c);
  for (let i = 0; i < p.want.length; i++) {
    const w = p.want[i];
    const g = readHost(p.out, dtype, i, false);
    const ok = Number.isNaN(w) ? Number.isNaN(g) : g === w || Math.abs(g - w) <= tol * Math.max(1, Math.abs(w));
    if (!ok) return `${c.kernel.name}: out[${i}] = ${g}, interpreter ${w} (tolerance ${tol})`;
  }
  return undefined;
}
