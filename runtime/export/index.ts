/**
 * Deployment export: a symbol and its weights as a folder that builds and runs without
 * Node.js or Kiln (C API, kernels, schedule, weights), and a loader that runs such a folder
 * from TypeScript.
 */
export { exportModel, type ExportOptions, type ExportResult } from "./export_model.js";
export { exportCommand, parseShapeSpecs, type ExportCommandArgs } from "./cli.js";
export { loadExportedModel, pickCudaImage, type ExportedModel, type LoadExportedOptions, type ModelArray, type TypedArrayOf } from "./load.js";
export type { ExportParams } from "./params.js";
export type { ExportSchedule, ExportTarget, TensorSpec, ScheduleKernel, ScheduleStep, ScheduleRef } from "./schedule.js";
export { formatSchedule, parseSchedule, readScheduleFile } from "./schedule_file.js";
export { encodeWeights, decodeWeights, readWeightsFile, type WeightEntry, type WeightsFile } from "./weights_file.js";
export { DEFAULT_ARCHS, type CudaImageFile } from "./cuda_images.js";
