/** Reductions (MXNet's broadcast_reduce_op_*): sum/mean/prod/nansum/nanprod/max/min, argmax/argmin, norm. */
export * from "./reduce/value.js";
export * from "./reduce/index_ops.js";
export * from "./reduce/norm.js";
