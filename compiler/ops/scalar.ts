/** Elementwise ops with a scalar operand (MXNet's `_*_scalar` family and legacy `_*Scalar` names). */
export * from "./scalar/arith.js";
export * from "./scalar/logic.js";
