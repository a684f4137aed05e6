/** Shape ops: views (Reshape, Flatten, expand_dims, squeeze), transpose, slicing, joining and splitting. */
export * from "./shape/reshape.js";
export * from "./shape/slice.js";
export * from "./shape/concat.js";
