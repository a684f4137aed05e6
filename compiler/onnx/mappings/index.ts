/** Every ONNX op mapping family; importing this module fills the mapping table. */
import "./elementwise.js";
import "./activation.js";
import "./constants.js";
import "./shape_ops.js";
import "./slicing.js";
import "./reduce.js";
import "./matmul.js";
import "./conv.js";
import "./pool.js";
import "./normalization.js";
import "./softmax.js";
import "./rnn.js";
import "./indexing.js";
import "./resize.js";
import "./einsum.js";

export { findMapping, mappedOpTypes } from "./registry.js";
