/**
 * NDArray's arithmetic methods (`a.plus(b)`, `a.pow(2)`, …) as imperative ops, chosen as
 * MXNet 1.9's `_ufunc_helper` does: a number takes the scalar op; an array takes the
 * broadcast op. Arrays of one shape take the elementwise op instead, which gives the same
 * values as the broadcast op there and is the simpler kernel.
 */
import { shapesEqual } from "../../compiler/base/shape.js";
import { KilnError } from "../../compiler/base/errors.js";
import { NDArray, ArithmeticOp, ndarrayArithmetic } from "../ndarray.js";
import { invokeOp } from "./invoke.js";

/** [elementwise, broadcast, scalar] op of each method; undefined where the method takes only a number. */
const OPS: Record<ArithmeticOp, readonly [string | undefined, string | undefined, string]> = {
  plus: ["elemwise_add", "broadcast_add", "_plus_scalar"],
  minus: ["elemwise_sub", "broadcast_sub", "_minus_scalar"],
  mul: ["elemwise_mul", "broadcast_mul", "_mul_scalar"],
  div: ["elemwise_div", "broadcast_div", "_div_scalar"],
  pow: ["_power", "broadcast_power", "_power_scalar"],
  rminus: [undefined, undefined, "_rminus_scalar"],
  rdiv: [undefined, undefined, "_rdiv_scalar"],
  rpow: [undefined, undefined, "_rpower_scalar"],
};

/** Runs `a <op> b` and returns the new array. */
export function arithmetic(op: ArithmeticOp, a: NDArray, b: NDArray | number): NDArray {
  const [elem, bcast, scalar] = OPS[op];
  if (typeof b === "number") return invokeOp(scalar, `NDArray.${op}`, { data: a, scalar: b }) as NDArray;
  if (!(b instanceof NDArray) || !elem || !bcast)
    throw new KilnError(`NDArray.${op} takes ${elem ? "an NDArray or a number" : "a number"}, got ${b === null ? "null" : Array.isArray(b) ? "an array" : typeof b}`);
  const name = shapesEqual(a.shape, b.shape) ? elem : bcast;
  return invokeOp(name, `NDArray.${op}`, { lhs: a, rhs: b }) as NDArray;
}

ndarrayArithmetic.run = arithmetic;
