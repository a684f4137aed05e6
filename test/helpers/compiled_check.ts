/**
 * Runs a checked graph again through the compiled executor (cpu(), "interpret" backend: the
 * whole pipeline — decompose, fuse, lower, plan memory — with stages evaluated by the
 * tensor-expression interpreter), fused and unfused, and compares outputs, aux updates and
 * gradients with the reference run. Every op test gets this for free through op_check.
 */
import { expect } from "chai";
import { Symbol, cpu, gpu, NDArray } from "../../index.js";
import type { DType, Executor } from "../../index.js";
import "../../runtime/executor/compiled_binder.js";
import { CompiledExecutor } from "../../runtime/executor/compiled.js";
import { status } from "../../runtime/cuda/status.js";

/** KILN_TEST_GPU_OPS=1 on a machine with a CUDA device: every graph also runs on gpu(0), fused. */
const ON_GPU = process.env.KILN_TEST_GPU_OPS === "1" && status().available;

/** Ops of graphs that could not be compiled yet (no compute rule), with the reason. */
export const compiledSkipped = new Map<string, string>();
/** Graphs compared (for the summary). */
export const compiledChecked = { graphs: 0, random: 0, gpu: 0 };

/** Values of the reference executor's arrays before it ran. */
export interface Snapshot {
  args: Record<string, number[]>;
  aux: Record<string, number[]>;
}

export function snapshot(exe: Executor): Snapshot {
  const take = (d: Record<string, NDArray>): Record<string, number[]> => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.toArray()]));
  return { args: take(exe.argDict), aux: take(exe.auxDict) };
}

function close(got: number[], want: number[], what: string, TOL: number): void {
  expect(got.length, `${what} length`).to.equal(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    const ok = (Number.isNaN(w) && Number.isNaN(g)) || w === g || Math.abs(g - w) <= TOL * Math.max(1, Math.abs(w));
    if (!ok) expect.fail(`${what}[${i}]: compiled ${g}, reference ${w}`);
  }
}

export interface CompiledCheck {
  symbol: Symbol;
  shapes: Record<string, number[]>;
  gradReq: Record<string, "write" | "null">;
  isTrain: boolean;
  start: Snapshot;
  /** The reference executor after its run (forward, and backward when heads are given). */
  ref: Executor;
  /** Head gradients for backward; absent: forward only. */
  heads?: NDArray[];
  /** Reference gradients (captured right after its backward, before finite differences). */
  refGrads?: Record<string, number[]>;
  /** Reference outputs and aux states right after its forward. */
  refOutputs: number[][];
  refAux: Record<string, number[]>;
}

/** Compiles and runs the graph fused and unfused; compares with the reference values. */
export function checkCompiled(c: CompiledCheck): void {
  const variants: { fuse: boolean; gpu: boolean }[] = [{ fuse: true, gpu: false }, { fuse: false, gpu: false }];
  if (ON_GPU) variants.push({ fuse: true, gpu: true });
  for (const { fuse, gpu: onGpu } of variants) {
    const typeDict: Record<string, DType> = {};
    for (const n of c.symbol.listArguments()) typeDict[n] = "float64";
    let exe: Executor;
    try {
      exe = onGpu
        ? c.symbol.simpleBind({ ctx: gpu(), shapes: c.shapes, gradReq: c.gradReq, typeDict, compile: { fuse } })
        : c.symbol.simpleBind({ ctx: cpu(), shapes: c.shapes, gradReq: c.gradReq, typeDict, compile: { backend: "interpret", fuse } });
      for (const [k, v] of Object.entries(c.start.args)) exe.argDict[k].set(v);
      for (const [k, v] of Object.entries(c.start.aux)) exe.auxDict[k].set(v);
      (exe as CompiledExecutor).program(c.isTrain ? "train" : "forward");
    } catch (err) {
      const m = /operator (\S+) \((\S+)\) has no compute rule/.exec((err as Error).message);
      if (m) {
        compiledSkipped.set(m[2], (err as Error).message);
        return;
      }
      throw err;
    }
    const where = onGpu ? "gpu (fused)" : `compiled (${fuse ? "fused" : "unfused"})`;
    const outs = exe.forward(c.isTrain);
    if ((exe as CompiledExecutor).program(c.isTrain ? "train" : "forward").usesSeed) {
      // Random masks come from Philox, not the reference's generator: values differ by design.
      compiledChecked.random++;
      return;
    }
    // float64 graphs agree to rounding; a graph with narrower floats inside (Cast) to their precision.
    const steps = (exe as CompiledExecutor).program(c.isTrain ? "train" : "forward").steps;
    const dtypes = new Set(steps.flatMap((s) => [s.outputType.dtype, ...s.inputTypes.map((t) => t.dtype)]));
    const tol = dtypes.has("float16") ? 2e-3 : dtypes.has("float32") ? 1e-6 : 1e-9;
    outs.forEach((o, i) => close(o.toArray(), c.refOutputs[i], `${where} output ${i}`, tol));
    for (const [k, v] of Object.entries(c.refAux)) close(exe.auxDict[k].toArray(), v, `${where} aux ${k}`, tol);
    if (c.heads && c.refGrads) {
      exe.backward(c.heads);
      for (const [k, v] of Object.entries(c.refGrads)) close(exe.gradDict[k].toArray(), v, `${where} gradient of ${k}`, tol);
    }
    if (onGpu) compiledChecked.gpu++;
  }
  compiledChecked.graphs++;
}
