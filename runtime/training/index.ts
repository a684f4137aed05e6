/**
 * The training API, as MXNet's `mx.io`, `mx.init`, `mx.optimizer`, `mx.metric`,
 * `mx.callback`, `mx.lr_scheduler` and `mx.mod.Module`: each namespace is one module of
 * this folder (`io` for iterators, `idx` for IDX files and `mnistIter`).
 */
export * as io from "./io.js";
export * as idx from "./idx.js";
export * as init from "./initializer.js";
export * as optimizer from "./optimizer.js";
export * as metric from "./metric.js";
export * as callback from "./callback.js";
export * as lrScheduler from "./lr_scheduler.js";
export * as random from "./random.js";
export { Module } from "./module.js";
export type { ModuleOptions, BindOptions, InitParamsOptions, InitOptimizerOptions, FitOptions, EpochRecord, EvaluateResult } from "./module.js";
export { saveCheckpoint, loadCheckpoint } from "./checkpoint.js";
