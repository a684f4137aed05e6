/**
 * The static schedule of an exported model: the inference Program (compiler/passes/program.ts)
 * with every kernel argument resolved to one of four places a deployed runtime knows: the
 * arena (one block, at a planned offset), a model input, a weight (an entry of weights.bin),
 * or a model output. Nothing here depends on Kiln's executor: the C runtime and the TypeScript
 * loader run exactly this list.
 */
import type { DType } from "../../compiler/base/dtype.js";
import { DTYPE_BYTES } from "../../compiler/base/dtype.js";
import { KilnError } from "../../compiler/base/errors.js";
import { shapeSize } from "../../compiler/base/shape.js";
import type { BufferRef, Program } from "../../compiler/passes/program.js";
import type { RenderedModule } from "../../compiler/codegen/index.js";

export type ExportTarget = "cpu" | "cuda";

/** A named array of the model: an input, an output or a weight. */
export interface TensorSpec {
  name: string;
  dtype: DType;
  shape: number[];
}

export interface ScheduleKernel {
  name: string;
  /** Pointer parameters: the inputs, then the output. */
  params: number;
  /** The output is zero-filled before the kernel runs (scatter kernels). */
  zero: boolean;
  /** CUDA launch shape (absent for cpu). */
  launch?: { grid: [number, number, number]; block: [number, number, number]; sharedBytes: number };
  /** The graph ops fused into it (a comment in the file). */
  ops: string[];
}

export type ScheduleRef = { kind: "arena"; offset: number } | { kind: "input" | "weight" | "output"; index: number };

export interface ScheduleStep {
  kernel: number;
  /** Bytes of the output (0: nothing to compute, the step is skipped). */
  outBytes: number;
  args: ScheduleRef[];
  /** What the step computes, for the file's comments. */
  outputName: string;
  outputType: string;
}

export interface ExportSchedule {
  target: ExportTarget;
  /** First 16 hex digits of the kernels source's SHA-256: binds the schedule to its kernels. */
  sourceHash: string;
  arenaBytes: number;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  weights: TensorSpec[];
  kernels: ScheduleKernel[];
  steps: ScheduleStep[];
}

export interface ScheduleNames {
  argNames: readonly string[];
  auxNames: readonly string[];
  /** Arguments that are model inputs (the rest must be weights). */
  inputNames: ReadonlySet<string>;
  outputs: readonly TensorSpec[];
  argTypes: readonly { dtype: DType; shape: readonly number[] }[];
  auxTypes: readonly { dtype: DType; shape: readonly number[] }[];
}

/** Names become tokens of a whitespace-separated file. */
export function checkName(name: string, what: string): string {
  if (name.length === 0 || /[\s\0]/.test(name)) throw new KilnError(`export: the ${what} name ${JSON.stringify(name)} is empty or holds whitespace, which the schedule file cannot carry`);
  return name;
}

/**
 * The schedule of an inference `program` whose kernels were rendered as `module`. Inputs and
 * weights that no kernel reads are left out (an unused label, say).
 */
export function buildSchedule(program: Program, module: RenderedModule, target: ExportTarget, sourceHash: string, names: ScheduleNames): ExportSchedule {
  if (program.forwardSteps !== program.steps.length) throw new KilnError(`export: program ${program.label} has a backward segment; export takes the inference program`);
  const rendered = new Map(module.kernels.map((k) => [k.name, k]));
  const kernelIndex = new Map<string, number>();
  const kernels: ScheduleKernel[] = [];
  const inputs: TensorSpec[] = [];
  const weights: TensorSpec[] = [];
  const inputIndex = new Map<string, number>();
  const weightIndex = new Map<string, number>();
  // Inputs and weights are numbered in argument order, then aux order, whatever the schedule order.
  const used = new Set<string>();
  for (const s of program.steps)
    for (const r of s.inputs)
      if (r.kind === "var" && (r.role.kind === "arg" || r.role.kind === "aux"))
        used.add(r.role.kind === "arg" ? `arg:${r.role.index}` : `aux:${r.role.index}`);
  names.argNames.forEach((n, i) => {
    if (!used.has(`arg:${i}`)) return;
    const spec = { name: checkName(n, "argument"), dtype: names.argTypes[i].dtype, shape: [...names.argTypes[i].shape] };
    if (names.inputNames.has(n)) (inputIndex.set(n, inputs.length), inputs.push(spec));
    else (weightIndex.set(n, weights.length), weights.push(spec));
  });
  names.auxNames.forEach((n, i) => {
    if (!used.has(`aux:${i}`)) return;
    weightIndex.set(`aux:${n}`, weights.length);
    weights.push({ name: checkName(n, "aux state"), dtype: names.auxTypes[i].dtype, shape: [...names.auxTypes[i].shape] });
  });
  const written = new Set<number>();
  const refOf = (r: BufferRef, where: string): ScheduleRef => {
    if (r.kind === "pool") return { kind: "arena", offset: r.offset };
    if (r.kind === "var") {
      const role = r.role;
      if (role.kind === "arg") {
        const n = names.argNames[role.index];
        return inputIndex.has(n) ? { kind: "input", index: inputIndex.get(n)! } : { kind: "weight", index: weightIndex.get(n)! };
      }
      if (role.kind === "aux") return { kind: "weight", index: weightIndex.get(`aux:${names.auxNames[role.index]}`)! };
      throw new KilnError(`export: ${where} reads ${role.kind === "seed" ? "the random seed" : "a head gradient"}, which an inference program cannot`);
    }
    if (r.dest.kind !== "output") throw new KilnError(`export: ${where} writes a ${r.dest.kind} array; export takes the inference program`);
    return { kind: "output", index: r.dest.index };
  };
  const steps = program.steps.map((s): ScheduleStep => {
    const where = `kernel ${s.kernel.name} (${s.outputName})`;
    if (s.kernel.accumulate) throw new KilnError(`export: ${where} accumulates into its output; export takes the inference program`);
    let k = kernelIndex.get(s.kernel.name);
    if (k === undefined) {
      const info = rendered.get(s.kernel.name);
      if (!info) throw new KilnError(`export: ${where} is not in the rendered module`);
      k = kernels.length;
      kernelIndex.set(s.kernel.name, k);
      kernels.push({ name: s.kernel.name, params: info.params.length, zero: info.zeroOutput, launch: info.launch, ops: [...s.kernel.ops] });
    }
    const out = refOf(s.output, where);
    if (out.kind === "input" || out.kind === "weight") throw new KilnError(`export: ${where} writes into a bound ${out.kind}`);
    if (out.kind === "output") written.add(out.index);
    return {
      kernel: k,
      outBytes: shapeSize(s.outputType.shape) * DTYPE_BYTES[s.outputType.dtype],
      args: [...s.inputs.map((r) => refOf(r, where)), out],
      outputName: s.outputName,
      outputType: `${s.outputType.dtype}(${s.outputType.shape.join(",")})`,
    };
  });
  names.outputs.forEach((o, i) => {
    checkName(o.name, "output");
    if (!written.has(i) && shapeSize(o.shape) > 0)
      throw new KilnError(`export: output ${o.name} is not computed by any kernel (an input or weight passed straight through); export cannot serve it`);
  });
  return { target, sourceHash, arenaBytes: program.memory.arenaBytes, inputs, outputs: names.outputs.map((o) => ({ ...o, shape: [...o.shape] })), weights, kernels, steps };
}
