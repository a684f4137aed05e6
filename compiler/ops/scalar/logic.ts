/** Comparisons and logical ops with a scalar: 1 where true, else 0; zero gradient. */
import { scalarOp } from "./define.js";

const b = (v: boolean): number => (v ? 1 : 0);

export const equalScalar = scalarOp("_equal_scalar", ["_EqualScalar"], "x == scalar", (x, s) => b(x === s), "zero");
export const notEqualScalar = scalarOp("_not_equal_scalar", ["_NotEqualScalar"], "x != scalar", (x, s) => b(x !== s), "zero");
export const greaterScalar = scalarOp("_greater_scalar", ["_GreaterScalar"], "x > scalar", (x, s) => b(x > s), "zero");
export const greaterEqualScalar = scalarOp("_greater_equal_scalar", ["_GreaterEqualScalar"], "x >= scalar", (x, s) => b(x >= s), "zero");
export const lesserScalar = scalarOp("_lesser_scalar", ["_LesserScalar"], "x < scalar", (x, s) => b(x < s), "zero");
export const lesserEqualScalar = scalarOp("_lesser_equal_scalar", ["_LesserEqualScalar"], "x <= scalar", (x, s) => b(x <= s), "zero");
export const logicalAndScalar = scalarOp("_logical_and_scalar", ["_LogicalAndScalar"], "x && scalar", (x, s) => b(x !== 0 && s !== 0), "zero");
export const logicalOrScalar = scalarOp("_logical_or_scalar", ["_LogicalOrScalar"], "x || scalar", (x, s) => b(x !== 0 || s !== 0), "zero");
export const logicalXorScalar = scalarOp("_logical_xor_scalar", ["_LogicalXorScalar"], "xor(x, scalar)", (x, s) => b((x !== 0) !== (s !== 0)), "zero");
