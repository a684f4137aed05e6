/** ONNX import (compiler side: bytes in, a Symbol and constant tensors out; no I/O). */
export { importOnnx } from "./importer.js";
export type { OnnxImportOptions, OnnxImportResult, OnnxInputInfo } from "./importer.js";
export { decodeModel, decodeTensor } from "./proto.js";
export type { OnnxModel, OnnxGraph, OnnxNode, OnnxTensorProto, OnnxValueInfo, OnnxAttribute } from "./proto.js";
export { tensorFromProto, tensorValues, kilnDType, onnxTypeName, ONNX_TYPE } from "./tensor.js";
export type { ConstTensor } from "./tensor.js";
export { OnnxImportError, OnnxUnsupportedError } from "./errors.js";
export type { Unsupported } from "./errors.js";
export { mappedOpTypes } from "./mappings/index.js";
