/**
 * Code generation: Kernels (compiler/ir/kernel.ts) rendered as one C++ or CUDA module.
 *
 * One C-style renderer for both targets (emitter.ts renders expressions, the family modules
 * render statements); what differs between targets is data (targets.ts) and the Handlebars
 * skeletons (templates/<family>.<cpp|cu>.hbs). Kernel families: map (elementwise, broadcast,
 * injective), reduce (with prologue and `post` epilogue), gemm (reduce stages that are
 * contractions: FullyConnected, dot, batch_dot, convolution as implicit GEMM), scatter (atomic adds).
 */
import { KilnError } from "../base/errors.js";
import type { Kernel } from "../ir/kernel.js";
import type { KernelParam } from "../../runtime/kernel_args.js";
import { findContraction } from "./contraction.js";
import { accumulatorType, renderGemm } from "./gemm.js";
import { renderMap } from "./map.js";
import { prepare } from "./prepare.js";
import { renderReduce } from "./reduce.js";
import { renderScatter } from "./scatter.js";
import type { KernelSource } from "./skeleton.js";
import { TARGETS, Target } from "./targets.js";
import { template } from "./templates.js";

export type { Target } from "./targets.js";

export interface RenderedKernel {
  name: string;
  /** "ptr" for each input, then the output (runtime/kernel_args.ts). */
  params: KernelParam[];
  /** The executor zero-fills the output before launching (scatter kernels that do not accumulate). */
  zeroOutput: boolean;
  /** CUDA launch shape; undefined for C++. */
  launch?: { grid: [number, number, number]; block: [number, number, number]; sharedBytes: number };
}

export interface RenderedModule {
  target: Target;
  source: string;
  kernels: RenderedKernel[];
}

export interface RenderOptions {
  /** Use fast-math intrinsics where the target has them (CUDA float32: __expf, __logf, …). */
  fastMath?: boolean;
  /**
   * Allow TF32 tensor cores for float32 contractions (CUDA, sm_80+: 10-bit mantissa products,
   * float32 sums). Off by default: results then differ from float32 math by about 1e-3 relative.
   */
  tf32?: boolean;
  /** Give contractions the GEMM schedule (default true; false renders them as plain reductions, for comparison). */
  gemm?: boolean;
}

/** Renders `kernels` as one module of `target` source (kernel names must be unique). */
export function renderModule(kernels: readonly Kernel[], target: Target, opts: RenderOptions = {}): RenderedModule {
  const spec = TARGETS[target];
  if (!spec) throw new KilnError(`codegen: unknown target "${String(target)}" (expected ${Object.keys(TARGETS).join(" or ")})`);
  const seen = new Set<string>();
  const sources: string[] = [];
  const rendered: RenderedKernel[] = [];
  let tensorCores = false;
  for (const k of kernels) {
    if (seen.has(k.name)) throw new KilnError(`codegen: two kernels named ${k.name} in one module`);
    seen.add(k.name);
    const p = prepare(k, spec, opts.fastMath ?? false);
    let ks: KernelSource;
    try {
      if (p.body.kind === "reduce") {
        const c = opts.gemm === false ? undefined : findContraction(p);
        const tiles = c && spec.gemmSchedule({ batch: c.B, m: c.M, n: c.N, k: c.K, acc: accumulatorType(p), tf32: opts.tf32 ?? false });
        ks = c && tiles ? renderGemm(p, c, tiles) : renderReduce(p);
      } else ks = p.body.kind === "map" ? renderMap(p) : renderScatter(p);
    } catch (err) {
      if (err instanceof KilnError) throw err;
      throw new KilnError(`${p.where}: ${(err as Error).message}`);
    }
    sources.push(ks.source);
    tensorCores ||= ks.tensorCores ?? false;
    rendered.push({
      name: k.name,
      params: [...k.stage.inputs.map((): KernelParam => "ptr"), "ptr"],
      zeroOutput: p.body.kind === "scatter" && !k.accumulate,
      launch: ks.launch,
    });
  }
  // float16 appears as a tensor's or a cast's dtype.
  const usesHalf = kernels.some((k) => JSON.stringify(k.stage).includes('"dtype":"float16"'));
  const source = template(spec, "module")({
    count: kernels.length,
    qualifier: spec.helperQualifier,
    half: usesHalf,
    tensorCores,
    byteAtomics: kernels.some((k) => k.stage.body.kind === "scatter" && (k.stage.out.dtype === "uint8" || k.stage.out.dtype === "int8")),
    kernels: sources,
  });
  return { target, source, kernels: rendered };
}
