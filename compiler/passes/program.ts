/**
 * A compiled Program: the schedule of kernels of one executor variant with the buffer of
 * every kernel argument, and its memory report. Produced by compileGraph (pipeline.ts), run by
 * the executor backends.
 */
import type { Kernel } from "../ir/kernel.js";
import type { TensorType } from "../te/stage.js";
import type { PassTiming } from "./pass_manager.js";
import { shapeToString } from "../base/shape.js";

/** Which bound array a variable reads. */
export type VariableRole = { kind: "arg"; index: number } | { kind: "aux"; index: number } | { kind: "head"; index: number } | { kind: "seed" };

/** Where a graph output goes: an output array, a gradient array (adding for grad_req "add"), an aux state. */
export type Destination = { kind: "output"; index: number } | { kind: "grad"; index: number; accumulate: boolean } | { kind: "aux"; index: number };

/** Where a kernel argument lives. */
export type BufferRef =
  | { kind: "pool"; storage: number; offset: number; bytes: number }
  | { kind: "var"; role: VariableRole }
  | { kind: "dest"; dest: Destination };

export interface ProgramStep {
  readonly kernel: Kernel;
  readonly inputs: readonly BufferRef[];
  readonly output: BufferRef;
  readonly inputTypes: readonly TensorType[];
  readonly outputType: TensorType;
  /** 0: runs in forward; 1: in backward. */
  readonly phase: number;
  /** The entry written (for debugStr and errors). */
  readonly outputName: string;
  /** Graph nodes computed inside the kernel. */
  readonly nodes: readonly string[];
}

export interface MemoryReport {
  /** Every op output of the bound graph in its own buffer (MXNet's naive allocation). */
  readonly naiveBytes: number;
  /** What the plan uses for op outputs: the arena plus outputs written straight into bound arrays. */
  readonly plannedBytes: number;
  readonly arenaBytes: number;
  /** Op outputs written into bound output and gradient arrays. */
  readonly boundOutputBytes: number;
  readonly storageIds: number;
  /** Kernels writing over an input. */
  readonly inplace: number;
  readonly kernels: number;
  /** Forward nodes recomputed in backward. */
  readonly mirrored: number;
}

export interface Program {
  readonly label: string;
  readonly steps: readonly ProgramStep[];
  /** Distinct kernels (by name), what the module renders. */
  readonly kernels: readonly Kernel[];
  /** steps[0 .. forwardSteps) run in forward, the rest in backward. */
  readonly forwardSteps: number;
  readonly memory: MemoryReport;
  readonly timings: readonly PassTiming[];
  /** Whether a kernel reads the random seed (the executor advances it each forward). */
  readonly usesSeed: boolean;
  /** Indices of head gradients the backward pass reads. */
  readonly headsUsed: readonly number[];
  debugStr(): string;
}

function refStr(r: BufferRef): string {
  if (r.kind === "pool") return `pool#${r.storage}@${r.offset}`;
  if (r.kind === "var") return r.role.kind === "seed" ? "seed" : `${r.role.kind}[${r.role.index}]`;
  const d = r.dest;
  return d.kind === "grad" ? `grad[${d.index}]${d.accumulate ? "+=" : ""}` : `${d.kind}[${d.index}]`;
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(2)} MiB`;

/** The schedule with storage ids and sizes, like MXNet's Executor::debug_str. */
export function describeProgram(p: Program): string {
  const lines: string[] = [`Program ${p.label}: ${p.steps.length} kernels (${p.kernels.length} distinct), forward ${p.forwardSteps}, backward ${p.steps.length - p.forwardSteps}`];
  p.steps.forEach((s, i) => {
    if (i === 0) lines.push("-------------------- forward");
    if (i === p.forwardSteps) lines.push("-------------------- backward");
    const ins = s.inputs.map((r, k) => `${refStr(r)} ${shapeToString(s.inputTypes[k].shape)}`).join(", ");
    lines.push(`[${i}] ${s.kernel.name}${s.kernel.accumulate ? " (accumulate)" : ""} ops=[${s.kernel.ops.join(", ")}]`);
    lines.push(`\tin: ${ins || "-"}`);
    const size = s.output.kind === "pool" ? ` ${s.output.bytes} B` : "";
    lines.push(`\tout: ${s.outputName} ${s.outputType.dtype}${shapeToString(s.outputType.shape)} -> ${refStr(s.output)}${size}`);
  });
  const m = p.memory;
  lines.push(
    `Total ${mib(m.plannedBytes)} planned (arena ${mib(m.arenaBytes)} in ${m.storageIds} storage ids, ${mib(m.boundOutputBytes)} in bound arrays, ${m.inplace} in place), naive ${mib(m.naiveBytes)}`,
  );
  return lines.join("\n");
}
