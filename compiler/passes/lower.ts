/**
 * Lowering: each fused group becomes one Kernel (compiler/ir/kernel) whose stage has the
 * group's producers inlined and whose inputs are the group's external entries, renumbered.
 */
import { Kernel, makeKernel } from "../ir/kernel.js";
import type { TensorType } from "../te/stage.js";
import type { EntryStage } from "./stages.js";
import type { FusionPlan } from "./fuse.js";
import { composeOrThrow } from "./compose.js";

/** A kernel of the schedule and the entries it reads and writes. */
export interface ScheduledKernel {
  readonly kernel: Kernel;
  /** Entry read by each kernel input, in argument order. */
  readonly inputs: readonly number[];
  /** The entry the kernel writes. */
  readonly output: number;
  /** Entries computed inside the kernel (the group's members), the output last. */
  readonly members: readonly number[];
}

export interface LowerOptions {
  types(entry: number): TensorType;
  /** Entries whose kernel adds into its destination (gradients with grad_req "add"). */
  accumulate: ReadonlySet<number>;
}

/** One kernel per group, in the plan's (dependency) order. */
export function lower(stages: ReadonlyMap<number, EntryStage>, plan: FusionPlan, opts: LowerOptions): ScheduledKernel[] {
  return plan.groups.map((grp) => {
    const composed = composeOrThrow(stages, new Set(grp.members), grp.root, plan.recomputed, opts.types);
    // Ops in evaluation (entry) order, recomputed ones included.
    const ops = [...grp.members, ...composed.recomputed].sort((a, b) => a - b).map((m) => stages.get(m)!.op);
    return {
      kernel: makeKernel(composed.stage, ops, opts.accumulate.has(grp.root)),
      inputs: composed.inputs,
      output: grp.root,
      members: grp.members,
    };
  });
}
