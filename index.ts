/**
 * Kiln's public API. Everything a user imports comes from here.
 */
import "./runtime/executor/reference.js";
import "./runtime/executor/compiled_binder.js";

import { sym as symCore } from "./compiler/symbol/sym.js";
import { fromONNX } from "./runtime/onnx_import.js";
/**
 * The symbol API: one typed function per operator (`sym.Convolution({...})`), plus Variable,
 * Group, fromJSON, load and fromONNX (ONNX models in; fromONNX lives in the runtime because it
 * returns the initializers as NDArrays).
 */
export const sym: typeof symCore & { fromONNX: typeof fromONNX } = Object.assign(symCore, { fromONNX });
export { fromONNX };
export { toONNX } from "./compiler/onnx/export/index.js";
export type { FromOnnxOptions, FromOnnxResult } from "./runtime/onnx_import.js";
export type { OpArgs, OpFunctions, VariableOptions } from "./compiler/symbol/sym.js";
export { Symbol } from "./compiler/symbol/symbol.js";
export { rnn } from "./compiler/rnn/index.js";
export type { ShapeTriple, TypeTriple, PartialTypeTriple } from "./compiler/symbol/infer.js";
export type { Executor, GradReq, GradReqSpec, BindArgs, SimpleBindArgs } from "./compiler/symbol/binding.js";
export { NameManager, withNameManager, resetNames } from "./compiler/symbol/naming.js";
export { listOps, findOp } from "./compiler/ops/registry.js";
export type { OpDef, PatternKind } from "./compiler/ops/registry.js";
export type { DType } from "./compiler/base/dtype.js";
export { KilnError, ShapeError, InferenceError, ParamError, GraphError } from "./compiler/base/errors.js";
export { NDArray } from "./runtime/ndarray.js";
export { nd } from "./runtime/nd.js";
export type { ND, NestedNumbers } from "./runtime/nd.js";
export { imperativeCache } from "./runtime/imperative/cache.js";
export type { ImperativeCacheStats, ImperativeCacheLimits } from "./runtime/imperative/cache.js";
export type { NDOpFunctions, NDOpArgs, NDOpFunction, NDCommonArgs } from "./runtime/imperative/ops.js";
export type { ArrayOptions } from "./runtime/ndarray.js";
export { Context, reference, cpu, gpu } from "./runtime/context.js";
export type { DeviceType } from "./runtime/context.js";
export { devices, defaultContext } from "./runtime/devices.js";
export { cuda, CudaDevice, CudaModule, CudaKernel, CudaEvent, CudaGraph, CachingAllocator, CudaError, CudaUnavailableError, CudaCompileError } from "./runtime/cuda/index.js";
export type { CudaStatus, LaunchConfig, CudaKernelArg, CudaCompileOptions } from "./runtime/cuda/index.js";
export { cpuKernels, CpuLibrary, CpuKernel, CpuCompileError } from "./runtime/cpu/index.js";
export type { CpuKernelArg, CpuCompileOptions } from "./runtime/cpu/index.js";
export type { KernelParam } from "./runtime/kernel_args.js";
export { KernelCache, defaultKernelCache } from "./runtime/cache/kernel_cache.js";
export type { CompileKey, CacheResult } from "./runtime/cache/kernel_cache.js";
export { CompiledExecutor } from "./runtime/executor/compiled.js";
export type { KernelInfo, CompiledExecutorOptions, ExecutorBackend } from "./runtime/executor/compiled.js";
export { compileSymbol } from "./runtime/executor/compile_symbol.js";
export type { CompileSymbolOptions, CompiledSymbol } from "./runtime/executor/compile_symbol.js";
export { registerPass, unregisterPass, registeredPasses } from "./compiler/passes/pass_manager.js";
export type { UserPass, GraphPassName } from "./compiler/passes/pass_manager.js";
export type { MemoryReport, Program } from "./compiler/passes/program.js";
export type { BindCompileOptions } from "./compiler/symbol/binding.js";
export { Graph } from "./compiler/ir/graph.js";
export { Node } from "./compiler/ir/node.js";
export type { NodeEntry } from "./compiler/ir/node.js";
export { Module, io, idx, init, optimizer, metric, callback, lrScheduler, random, saveCheckpoint, loadCheckpoint } from "./runtime/training/index.js";
export type { ModuleOptions, BindOptions, InitParamsOptions, InitOptimizerOptions, FitOptions, EpochRecord, EvaluateResult } from "./runtime/training/index.js";
export type { DataDesc, DataBatch, DataIter } from "./runtime/training/io.js";
export type { EvalMetric } from "./runtime/training/metric.js";
export type { BatchEndParam, BatchEndCallback, EpochEndCallback } from "./runtime/training/callback.js";
export { exportModel, exportCommand, loadExportedModel } from "./runtime/export/index.js";
export type { ExportOptions, ExportResult, ExportedModel, ExportParams, ExportTarget, TensorSpec } from "./runtime/export/index.js";
