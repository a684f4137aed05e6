/** Elementwise unary ops (MXNet's elemwise_unary_op_* families, clip, hard_sigmoid). */
export * from "./unary/basic.js";
export * from "./unary/transcendental.js";
export * from "./unary/clip.js";
