/**
 * A kernel: one generated function, computing one output tensor from its inputs with a
 * (fused) stage. Lowering produces kernels from fused groups; codegen renders them; the
 * executor launches them on planned buffers.
 */
import { createHash } from "node:crypto";
import type { Stage, TensorType } from "../te/stage.js";

export interface Kernel {
  /** A C identifier, unique within its module (`fused_relu_add_1f3a9c2e`). */
  readonly name: string;
  /** What the kernel computes; loads read `stage.inputs[slot]`, the kernel's input arguments in order. */
  readonly stage: Stage;
  /** Accumulate into the output (`out += v`, grad_req "add") instead of overwriting it. */
  readonly accumulate: boolean;
  /** The graph ops fused into this kernel, in evaluation order (for exe.kernels, names, debugging). */
  readonly ops: readonly string[];
}

/** Input types followed by the output type: the kernel's argument list. */
export function kernelArgs(k: Kernel): TensorType[] {
  return [...k.stage.inputs, k.stage.out];
}

/** A structural hash of what the kernel computes (not its name): equal hashes render equal code. */
export function kernelHash(stage: Stage, accumulate: boolean): string {
  return createHash("sha256").update(JSON.stringify({ stage, accumulate })).digest("hex").slice(0, 16);
}

/** Builds a kernel named after its ops and its hash. */
export function makeKernel(stage: Stage, ops: readonly string[], accumulate = false): Kernel {
  const stem = ops
    .map((o) => o.replace(/^_+/, "").replace(/[^A-Za-z0-9]/g, "_").toLowerCase())
    .slice(0, 4)
    .join("_");
  return { name: `${stem || "kernel"}_${kernelHash(stage, accumulate).slice(0, 8)}`, stage, accumulate, ops };
}
