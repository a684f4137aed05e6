/** ONNX export of inference graphs: a Symbol and its parameters as ONNX model bytes. */
export { toONNX } from "./to_onnx.js";
export type { ToOnnxOptions, ParamValue } from "./to_onnx.js";
export { exportedOps } from "./emitter.js";
export { OnnxExportError, OnnxExportUnsupportedError } from "./errors.js";
export type { ExportUnsupported } from "./errors.js";
