/**
 * Scalar math for the reference interpreter that JavaScript lacks: erf, erfc and erfinv
 * (accurate to a few ulps, which the oracle needs) and MXNet's mod, with mod's expression form.
 */
import { E, Expr, num } from "../../te/expr.js";

/** MXNet's mod: the result takes the divisor's sign (Python's %), and x mod 0 = 0. */
export function mxMod(a: number, b: number): number {
  if (b === 0) return 0;
  const r = a % b;
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
}

/**
 * mxMod as an expression: C's fmod (exact), moved to the divisor's sign. A constant divisor
 * folds the sign tests away (the scalar ops); a zero divisor gives 0, as in MXNet.
 */
export function mxModExpr(a: Expr, b: Expr | number): Expr {
  if (typeof b === "number") {
    if (b === 0) return num(0);
    const r = E.fn("fmod", a, b);
    // r takes a's sign; it needs moving when that differs from b's (r ≠ 0).
    return E.select(b > 0 ? E.lt(r, 0) : E.gt(r, 0), E.add(r, b), r);
  }
  const r = E.fn("fmod", a, b);
  const moves = E.fn("and", E.ne(r, 0), E.ne(E.lt(r, 0), E.lt(b, 0)));
  return E.select(E.eq(b, 0), 0, E.select(moves, E.add(r, b), r));
}

/** sign with NaN kept as NaN (ScalarFn sign, like MXNet's, maps NaN to 0), in both forms. */
export const signFn = {
  f: (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN),
  e: (x: Expr): Expr => E.select(E.fn("isnan", x), x, E.fn("sign", x)),
};

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf for |x| < 2.5 by the series erf(x) = 2/√π·e^(−x²)·Σ (2x²)^n·x / (1·3·…·(2n+1)):
 * every term is positive, so nothing cancels.
 */
function erfSeries(x: number): number {
  const x2 = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
}

/** erfc for x ≥ 2.5 by Laplace's continued fraction e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))). */
function erfcContinuedFraction(x: number): number {
  let f = x;
  for (let k = 120; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) return erfSeries(x);
  if (ax > 6) return Math.sign(x);
  const r = 1 - erfcContinuedFraction(ax);
  return x < 0 ? -r : r;
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= 2.5) return x > 27.3 ? 0 : erfcContinuedFraction(x);
  return 1 - erf(x);
}

/** d/dx erf(x). */
export function erfDerivative(x: number): number {
  return TWO_OVER_SQRT_PI * Math.exp(-x * x);
}

/**
 * Inverse of erf on (−1, 1) (±∞ at ±1, NaN outside): a rough start refined by Newton steps,
 * on erf near 0 and on erfc in the tails where 1 − |y| is exact.
 */
export function erfinv(y: number): number {
  if (Number.isNaN(y) || y < -1 || y > 1) return NaN;
  if (y === 1) return Infinity;
  if (y === -1) return -Infinity;
  if (y === 0) return y;
  const ay = Math.abs(y);
  // Start: Winitzki's approximation (relative error ~1e-3).
  const a = 0.147;
  const ln = Math.log(1 - ay * ay);
  const t = 2 / (Math.PI * a) + ln / 2;
  let x = Math.sqrt(Math.sqrt(t * t - ln / a) - t);
  const q = 1 - ay;
  for (let i = 0; i < 50; i++) {
    const d = erfDerivative(x);
    const step = ay < 0.5 ? (erf(x) - ay) / d : -(erfc(x) - q) / d;
    x -= step;
    if (Math.abs(step) <= 1e-16 * Math.abs(x)) break;
  }
  return y < 0 ? -x : x;
}
