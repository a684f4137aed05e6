/** Broadcasting ops (MXNet's broadcast_* family, broadcast_to/axis/like) and their shared backward row. */
export * from "./broadcast/binary.js";
export * from "./broadcast/to.js";
export * from "./broadcast/reduce_to.js";
