/**
 * How a Symbol reaches an executor without the compiler depending on the runtime: each
 * device kind registers a Binder, and Symbol.bind/simpleBind look it up by the context.
 */
import type { Symbol } from "./symbol.js";
import type { DType } from "../base/dtype.js";
import type { NDArray } from "../../runtime/ndarray.js";
import type { Context } from "../../runtime/context.js";
import { KilnError } from "../base/errors.js";

export type GradReq = "write" | "add" | "null";

/** One request for all arguments, or one per argument name (missing names mean "null"). */
export type GradReqSpec = GradReq | Record<string, GradReq>;

/** How a compiled executor (cpu, gpu) compiles its graph. */
export interface BindCompileOptions {
  /** Fuse operators into fewer kernels (default true). */
  fuse?: boolean;
  /** Recompute cheap forward nodes in backward instead of keeping them (MXNet's mirroring). */
  mirror?: boolean;
  /** Run the kernels' stages with the tensor-expression interpreter instead of generated code (testing). */
  backend?: "interpret";
  /** gpu(): allow TF32 tensor cores in float32 contractions (FC, convolution, dot); off by default. */
  tf32?: boolean;
  /** Fast-math intrinsics for float32 (CUDA __expf, __logf, …); off by default. */
  fastMath?: boolean;
  /** gpu(): replay each forward/backward segment as a CUDA graph from its second run on (default true). */
  cudaGraphs?: boolean;
}

export interface SimpleBindArgs {
  ctx: Context;
  /** Shapes of the inputs (data, labels); the rest are inferred. */
  shapes: Record<string, readonly number[]>;
  gradReq?: GradReqSpec;
  /** Types of the inputs; float32 where neither given nor inferable. */
  typeDict?: Record<string, DType>;
  compile?: BindCompileOptions;
}

export interface BindArgs {
  ctx: Context;
  /** Argument arrays by name, or in listArguments() order. */
  args: Record<string, NDArray> | NDArray[];
  /** Gradient arrays by name or in order; a missing one means gradReq "null" for it. */
  argsGrad?: Record<string, NDArray> | (NDArray | null)[];
  gradReq?: GradReqSpec;
  auxStates?: Record<string, NDArray> | NDArray[];
  compile?: BindCompileOptions;
}

export interface Executor {
  readonly symbol: Symbol;
  readonly outputs: NDArray[];
  readonly argArrays: NDArray[];
  readonly gradArrays: (NDArray | null)[];
  readonly auxArrays: NDArray[];
  readonly argDict: Record<string, NDArray>;
  readonly gradDict: Record<string, NDArray>;
  readonly auxDict: Record<string, NDArray>;
  readonly outputDict: Record<string, NDArray>;
  /** Runs the forward pass; `feeds` are copied into the named argument arrays first. */
  forward(isTrain?: boolean, feeds?: Record<string, NDArray | ArrayLike<number>>): NDArray[];
  /** Runs the backward pass; head gradients are needed unless every output is a loss op. */
  backward(outGrads?: NDArray | NDArray[]): void;
  /** A new executor for new input shapes that shares this one's parameter arrays. */
  reshape(shapes: Record<string, readonly number[]>): Executor;
  /** Copies parameter values in by name; names the executor lacks are an error unless allowExtra. */
  copyParamsFrom(argParams: Record<string, NDArray>, auxParams?: Record<string, NDArray>, allowExtra?: boolean): void;
}

export type ExecutorLike = Executor;

export interface Binder {
  simpleBind(symbol: Symbol, args: SimpleBindArgs): Executor;
  bind(symbol: Symbol, args: BindArgs): Executor;
}

const binders = new Map<string, Binder>();

export function registerBinder(deviceType: string, binder: Binder): void {
  binders.set(deviceType, binder);
}

export function getBinder(ctx: Context): Binder {
  const b = binders.get(ctx.deviceType);
  if (!b)
    throw new KilnError(
      `no executor for ${ctx.toString()} in this build (available: ${[...binders.keys()].map((k) => `${k}()`).join(", ") || "none"})`,
    );
  return b;
}
