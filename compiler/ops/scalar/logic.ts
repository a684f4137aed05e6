/** Comparisons and logical ops with a scalar: 1 where true, else 0; zero gradient. */
import { scalarOp } from "./define.js";
import { E, num } from "../../te/expr.js";

const b = (v: boolean): number => (v ? 1 : 0);

export const equalScalar = scalarOp("_equal_scalar", ["_EqualScalar"], "x == scalar", { f: (x, s) => b(x === s), e: E.eq }, "zero");
export const notEqualScalar = scalarOp("_not_equal_scalar", ["_NotEqualScalar"], "x != scalar", { f: (x, s) => b(x !== s), e: E.ne }, "zero");
export const greaterScalar = scalarOp("_greater_scalar", ["_GreaterScalar"], "x > scalar", { f: (x, s) => b(x > s), e: E.gt }, "zero");
export const greaterEqualScalar = scalarOp("_greater_equal_scalar", ["_GreaterEqualScalar"], "x >= scalar", { f: (x, s) => b(x >= s), e: E.ge }, "zero");
export const lesserScalar = scalarOp("_lesser_scalar", ["_LesserScalar"], "x < scalar", { f: (x, s) => b(x < s), e: E.lt }, "zero");
export const lesserEqualScalar = scalarOp("_lesser_equal_scalar", ["_LesserEqualScalar"], "x <= scalar", { f: (x, s) => b(x <= s), e: E.le }, "zero");
// With the scalar known, the logical ops fold to a test of x alone.
export const logicalAndScalar = scalarOp(
  "_logical_and_scalar",
  ["_LogicalAndScalar"],
  "x && scalar",
  { f: (x, s) => b(x !== 0 && s !== 0), e: (x, s) => (s !== 0 ? E.ne(x, 0) : num(0)) },
  "zero",
);
export const logicalOrScalar = scalarOp(
  "_logical_or_scalar",
  ["_LogicalOrScalar"],
  "x || scalar",
  { f: (x, s) => b(x !== 0 || s !== 0), e: (x, s) => (s !== 0 ? num(1) : E.ne(x, 0)) },
  "zero",
);
export const logicalXorScalar = scalarOp(
  "_logical_xor_scalar",
  ["_LogicalXorScalar"],
  "xor(x, scalar)",
  { f: (x, s) => b((x !== 0) !== (s !== 0)), e: (x, s) => (s !== 0 ? E.fn("not", x) : E.ne(x, 0)) },
  "zero",
);
