/**
 * The compiled executor of cpu() and gpu(): the bound graph (forward + backward from
 * bind_plan) goes through the compiler pipeline (decompose → infer → fuse → lower → plan
 * memory), is rendered and compiled, and runs as a short list of kernels over one arena.
 *
 * Two programs, compiled lazily on first use: "forward" (inference) and "train" (training
 * forward followed by backward in one schedule and one arena: the backward segment reads the
 * forward values the plan keeps alive). forward(true) runs the train program's forward
 * segment, backward() its backward segment.
 */
import type { Symbol } from "../../compiler/symbol/symbol.js";
import type { BindCompileOptions, Executor } from "../../compiler/symbol/binding.js";
import { shapeToString, shapesEqual } from "../../compiler/base/shape.js";
import type { DType } from "../../compiler/base/dtype.js";
import { KilnError } from "../../compiler/base/errors.js";
import { compileGraph } from "../../compiler/passes/pipeline.js";
import type { Program, MemoryReport } from "../../compiler/passes/program.js";
import { NDArray } from "../ndarray.js";
import { Context } from "../context.js";
import { BoundArrays } from "./bind_plan.js";
import { BoundExecutor } from "./bound_executor.js";
import { Backend, ExecArrays, PreparedProgram } from "./compiled_backend.js";
import { CompileOptions, Variant, VariantInputs, variantRequest } from "./compiled_request.js";
import { interpretBackend, cppBackend } from "./compiled_host.js";
import { cudaBackend } from "./compiled_cuda.js";

/** One kernel as exe.kernels lists it. */
export interface KernelInfo {
  readonly name: string;
  readonly variant: Variant;
  readonly phase: "forward" | "backward";
  /** Ops fused into it, in evaluation order. */
  readonly ops: readonly string[];
  /** Graph nodes fused into it. */
  readonly nodes: readonly string[];
  readonly output: string;
  readonly launch?: { grid: number[]; block: number[]; sharedBytes: number };
  /** The module source holding it (shared by the program's kernels). */
  readonly source: string;
}

export type ExecutorBackend = "interpret" | "cpp" | "cuda";

export interface CompiledExecutorOptions extends CompileOptions {
  backend?: ExecutorBackend;
  /** Seed of the random stream (Dropout); advanced by one every forward pass. */
  seed?: number;
  /** gpu(): allow TF32 tensor cores in float32 contractions (off by default). */
  tf32?: boolean;
  /** Fast-math intrinsics for float32 (off by default). */
  fastMath?: boolean;
  /** gpu(): replay segments as CUDA graphs from their second run on (default true). */
  cudaGraphs?: boolean;
}

function backendFor(ctx: Context, options: CompiledExecutorOptions): Backend {
  const name = options.backend;
  const b = name ?? (ctx.deviceType === "gpu" ? "cuda" : "cpp");
  if (b === "interpret") {
    if (ctx.deviceType !== "cpu") throw new KilnError(`the interpret backend runs on cpu(), not ${ctx}`);
    return interpretBackend;
  }
  if (b === "cpp") {
    if (ctx.deviceType !== "cpu") throw new KilnError(`the cpp backend runs on cpu(), not ${ctx}`);
    return cppBackend;
  }
  if (ctx.deviceType !== "gpu") throw new KilnError(`the cuda backend runs on gpu(), not ${ctx}`);
  return cudaBackend(ctx.deviceId, { tf32: options.tf32, fastMath: options.fastMath, cudaGraphs: options.cudaGraphs });
}

export class CompiledExecutor extends BoundExecutor {
  readonly outputs: NDArray[];
  private readonly backend: Backend;
  private readonly inputs: VariantInputs;
  private readonly prepared = new Map<Variant, PreparedProgram>();
  private readonly heads: (NDArray | undefined)[];
  private readonly seed: NDArray;
  private seedValue: number;
  private trained = false;
  private lastVariant: Variant | undefined;

  constructor(
    symbol: Symbol,
    ctx: Context,
    arrays: BoundArrays,
    private readonly options: CompiledExecutorOptions = {},
  ) {
    if (ctx.deviceType === "reference") throw new KilnError("the compiled executor runs on cpu() or gpu(); reference() has its own");
    super(symbol, ctx, arrays);
    this.backend = backendFor(ctx, options);
    const shapes: Record<string, readonly number[]> = {};
    const types: Record<string, DType> = {};
    this.plan.argNames.forEach((n, i) => ((shapes[n] = arrays.args[i].shape), (types[n] = arrays.args[i].dtype)));
    this.plan.auxNames.forEach((n, i) => ((shapes[n] = arrays.aux[i].shape), (types[n] = arrays.aux[i].dtype)));
    const [, outShapes] = symbol.inferShape(shapes);
    const [, outTypes] = symbol.inferTypePartial(types);
    this.outputs = outShapes.map((s, i) => new NDArray(s, outTypes[i] ?? "float32", ctx));
    this.inputs = {
      plan: this.plan,
      gradReqs: arrays.gradReqs,
      argShapes: arrays.args.map((a) => a.shape),
      argTypes: arrays.args.map((a) => a.dtype),
      auxShapes: arrays.aux.map((a) => a.shape),
      auxTypes: arrays.aux.map((a) => a.dtype),
      outShapes: this.outputs.map((o) => o.shape),
      outTypes: this.outputs.map((o) => o.dtype),
    };
    this.heads = this.plan.headGradNodes.map((h, i) => (h ? new NDArray(this.outputs[i].shape, this.outputs[i].dtype, ctx) : undefined));
    this.seed = new NDArray([1], "int64", ctx);
    this.seedValue = options.seed ?? 0;
  }

  /** The compiled program of a variant (compiling it now if needed). */
  program(variant: Variant): Program {
    return this.prepare(variant).program;
  }

  private prepare(variant: Variant): PreparedProgram {
    let p = this.prepared.get(variant);
    if (!p) {
      const program = compileGraph(variantRequest(variant, this.inputs, this.options));
      const execArrays: ExecArrays = {
        args: this.arrays.args,
        aux: this.arrays.aux,
        grads: this.arrays.grads,
        outputs: this.outputs,
        heads: this.heads,
        seed: this.seed,
      };
      p = this.backend.prepare(program, execArrays);
      this.prepared.set(variant, p);
    }
    return p;
  }

  forward(isTrain = false, feeds: Record<string, NDArray | ArrayLike<number>> = {}): NDArray[] {
    this.feed(feeds);
    const variant: Variant = isTrain ? "train" : "forward";
    const p = this.prepare(variant);
    if (p.program.usesSeed) this.seed.set([this.seedValue++]);
    p.run(0, p.program.forwardSteps);
    this.trained = isTrain;
    this.lastVariant = variant;
    return this.outputs;
  }

  backward(outGrads?: NDArray | NDArray[]): void {
    if (!this.trained) throw new KilnError("backward needs a forward(isTrain=true) pass first");
    const heads = outGrads === undefined ? [] : Array.isArray(outGrads) ? outGrads : [outGrads];
    const p = this.prepare("train");
    const used = new Set(p.program.headsUsed);
    this.plan.headGradNodes.forEach((h, i) => {
      // Loss outputs, and outputs whose gradient nothing uses (BlockGrad), need no head gradient.
      if (!h || (!used.has(i) && heads[i] === undefined)) return;
      const given = heads[i];
      const want = this.outputs[i].shape;
      if (!given)
        throw new KilnError(`backward: output ${this.plan.outputNames[i]} is not a loss, so it needs a head gradient of shape ${shapeToString(want)}`);
      if (!shapesEqual(given.shape, want))
        throw new KilnError(`backward: head gradient ${i} has shape ${shapeToString(given.shape)}, output ${this.plan.outputNames[i]} has ${shapeToString(want)}`);
      if (used.has(i)) given.copyTo(this.heads[i]!);
    });
    p.run(p.program.forwardSteps, p.program.steps.length);
  }

  /** Every kernel of the programs compiled so far (compiling the likely one if none is yet). */
  get kernels(): KernelInfo[] {
    if (this.prepared.size === 0) this.prepare(this.defaultVariant());
    const out: KernelInfo[] = [];
    for (const [variant, p] of this.prepared) {
      p.program.steps.forEach((s, i) =>
        out.push({
          name: s.kernel.name,
          variant,
          phase: s.phase === 0 ? "forward" : "backward",
          ops: s.kernel.ops,
          nodes: s.nodes,
          output: s.outputName,
          launch: p.launchOf(i),
          source: p.source,
        }),
      );
    }
    return out;
  }

  /** The memory report of the program last run (compiling the likely one if none ran yet). */
  get memory(): MemoryReport & { argBytes: number; gradBytes: number; auxBytes: number } {
    const m = this.program(this.lastVariant ?? this.defaultVariant()).memory;
    const sum = (xs: readonly (NDArray | null)[]): number => xs.reduce((a, x) => a + (x ? x.byteLength : 0), 0);
    return { ...m, argBytes: sum(this.arrays.args), gradBytes: sum(this.arrays.grads), auxBytes: sum(this.arrays.aux) };
  }

  /** The schedule with storage ids and sizes (MXNet's debug_str) of the program last run. */
  debugStr(): string {
    return this.program(this.lastVariant ?? this.defaultVariant()).debugStr();
  }

  /** Training when some gradient is requested, else inference. */
  private defaultVariant(): Variant {
    return this.arrays.gradReqs.some((r) => r !== "null") ? "train" : "forward";
  }

  reshape(shapes: Record<string, readonly number[]>): Executor {
    return new CompiledExecutor(this.symbol, this.ctx, this.reshapedArrays(shapes), this.options);
  }

  /** Releases device memory and modules of the compiled programs. */
  dispose(): void {
    for (const p of this.prepared.values()) p.dispose();
    this.prepared.clear();
  }
}

/** Executor options from bind's `compile` field. */
export function executorOptions(c: BindCompileOptions | undefined): CompiledExecutorOptions {
  return { fuse: c?.fuse, mirror: c?.mirror, backend: c?.backend, tf32: c?.tf32, fastMath: c?.fastMath, cudaGraphs: c?.cudaGraphs };
}
