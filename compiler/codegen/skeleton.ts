/**
 * What the kernel families hand to the templates besides their statements: the signature's
 * fields and the launch shape.
 */
import { cName } from "./ctype.js";
import { Prepared, describe } from "./prepare.js";
import type { TargetSpec } from "./targets.js";

export interface Launch {
  grid: [number, number, number];
  block: [number, number, number];
  sharedBytes: number;
}

/** A family's rendering of one kernel. */
export interface KernelSource {
  source: string;
  launch?: Launch;
  /** The kernel uses the module's tensor-core helpers (CUDA TF32 mma.sync). */
  tensorCores?: boolean;
}

/**
 * Fields of templates/signature.*.hbs and the kernel comment. `minBlocks` (CUDA launch bounds)
 * 0 leaves ptxas its default register budget; 1 lets a kernel of small blocks use up to 255
 * registers (GEMM tiles with gathers), where the default caps it lower and spills.
 */
export function signatureFields(p: Prepared, threads: number, minBlocks = 0) {
  const { spec, indexType } = p.scope;
  return {
    name: p.kernel.name,
    comment: describe(p.kernel),
    inputs: p.stage.inputs.map((t, i) => ({ name: `in${i}`, type: spec.storage[t.dtype] })),
    out: { name: "out", type: spec.storage[p.stage.out.dtype] },
    outSlot: p.stage.inputs.length,
    index: cName(indexType),
    threads,
    minBlocks,
  };
}

/** A grid-stride launch over n points: enough blocks to cover them, at most spec.maxBlocks. */
export function gridLaunch(spec: TargetSpec, n: number): Launch | undefined {
  if (!spec.launches) return undefined;
  const blocks = Math.max(1, Math.min(spec.maxBlocks, Math.ceil(n / spec.blockThreads)));
  return { grid: [blocks, 1, 1], block: [spec.blockThreads, 1, 1], sharedBytes: 0 };
}

/** Splits statements that span lines (a pragma and its statement) into template lines. */
export function lines(statements: readonly string[]): string[] {
  return statements.flatMap((s) => s.split("\n"));
}
