/**
 * The meaning of every scalar function of the IR, as float64 JavaScript. The interpreter uses
 * it; the C++ and CUDA target tables must agree with it (the codegen tests check that).
 */
import { ScalarFn } from "./expr.js";

const b = (x: boolean): number => (x ? 1 : 0);

/** erf to float64 accuracy (Abramowitz–Stegun 7.1.26 is too coarse for an oracle): series + continued fraction. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: converges fast for |x| < 2.5.
    let term = x;
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc by Lentz's continued fraction.
  const t = ax;
  let f = t;
  let C = t;
  let D = 0;
  for (let n = 1; n < 200; n++) {
    const a = n / 2;
    D = t + a * D;
    D = 1 / D;
    C = t + a / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-t * t) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
}

function erfinv(y: number): number {
  if (y <= -1) return y === -1 ? -Infinity : NaN;
  if (y >= 1) return y === 1 ? Infinity : NaN;
  // Giles' approximation, then Newton steps on erf.
  let w = -Math.log((1 - y) * (1 + y));
  let x: number;
  if (w < 5) {
    w -= 2.5;
    x = 2.81022636e-8;
    for (const c of [3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]) x = c + x * w;
  } else {
    w = Math.sqrt(w) - 3;
    x = -0.000200214257;
    for (const c of [0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]) x = c + x * w;
  }
  x *= y;
  for (let k = 0; k < 3; k++) x -= (erf(x) - y) / ((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x));
  return x;
}

/** The high and low 32 bits of the 64-bit product of two 32-bit words (exact in float64 via 16-bit halves). */
function mulhilo32(a: number, b: number): [number, number] {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  const hi = (ah * bh + Math.floor(lh / 65536) + Math.floor(hl / 65536) + Math.floor(mid / 65536)) >>> 0;
  const lo = Math.imul(a, b) >>> 0;
  return [hi, lo];
}

/**
 * Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", Random123):
 * 10 rounds of the 4×32-bit counter `ctr` under the 2×32-bit key. Returns the four words.
 */
export function philox4x32(ctr: readonly [number, number, number, number], key: readonly [number, number]): [number, number, number, number] {
  let [c0, c1, c2, c3] = ctr.map((x) => x >>> 0);
  let [k0, k1] = key.map((x) => x >>> 0);
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + 0x9e3779b9) >>> 0;
      k1 = (k1 + 0xbb67ae85) >>> 0;
    }
    const [hi0, lo0] = mulhilo32(0xd2511f53, c0);
    const [hi1, lo1] = mulhilo32(0xcd9e8d57, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return [c0, c1, c2, c3];
}

const TWO32 = 4294967296;

/**
 * A uniform number in [0, 1) for element `counter` of random stream `stream` under `seed`:
 * Philox-4x32-10 with key (seed mod 2^32, seed / 2^32) and counter (counter mod 2^32,
 * counter / 2^32, stream, 0); the top 24 bits of the first word, times 2^-24 (exact in
 * float32, so C, CUDA and this agree bit for bit). Arguments are non-negative integers < 2^53.
 */
function philoxUniform(seed: number, stream: number, counter: number): number {
  const [w] = philox4x32([counter % TWO32, Math.floor(counter / TWO32), stream % TWO32, 0], [seed % TWO32, Math.floor(seed / TWO32) % TWO32]);
  return (w >>> 8) * 2 ** -24;
}

/** Round half away from zero (C's round), unlike Math.round. */
const roundAway = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));

/** Round half to even (C's rint under the default rounding mode). */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export const SCALAR_FNS: Readonly<Record<ScalarFn, (...a: number[]) => number>> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  neg: (x) => -x,
  // Python-style modulo (the sign of the divisor), as MXNet's mod.
  mod: (x, y) => (y === 0 ? NaN : x - Math.floor(x / y) * y),
  // C's fmod: the exact remainder of truncated division (the sign of the dividend); JS's %.
  fmod: (x, y) => x % y,
  pow: (x, y) => x ** y,
  max: (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y)),
  min: (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.min(x, y)),
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  idiv: (x, y) => Math.floor(x / y),
  imod: (x, y) => x - Math.floor(x / y) * y,
  lt: (x, y) => b(x < y),
  le: (x, y) => b(x <= y),
  gt: (x, y) => b(x > y),
  ge: (x, y) => b(x >= y),
  eq: (x, y) => b(x === y),
  ne: (x, y) => b(x !== y),
  and: (x, y) => b(x !== 0 && y !== 0),
  or: (x, y) => b(x !== 0 || y !== 0),
  not: (x) => b(x === 0),
  exp: Math.exp,
  expm1: Math.expm1,
  log: Math.log,
  log1p: Math.log1p,
  log2: Math.log2,
  log10: Math.log10,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  cbrt: Math.cbrt,
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  asinh: Math.asinh,
  acosh: Math.acosh,
  atanh: Math.atanh,
  atan2: Math.atan2,
  hypot: Math.hypot,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  // log(1 + e^x) without overflow for large x.
  softrelu: (x) => (x > 20 ? x : Math.log1p(Math.exp(x))),
  erf,
  erfinv,
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundAway,
  rint,
  trunc: Math.trunc,
  isnan: (x) => b(Number.isNaN(x)),
  philox_uniform: philoxUniform,
};
