/**
 * Kernels straight from op rows: an op's `compute` bodies over the shapes its own shape
 * inference gives, one kernel per output. The GEMM cases of the codegen tables and the CPU
 * GEMM bench use it, so they render exactly what FullyConnected, dot, batch_dot and the
 * convolutions lower to.
 */
import "../../compiler/ops/all.js";
import type { DType } from "../../compiler/base/dtype.js";
import type { Shape } from "../../compiler/base/shape.js";
import { ShapeCtx, getOp, inputNamesOf } from "../../compiler/ops/registry.js";
import { parseParams } from "../../compiler/ops/params.js";
import { E, v } from "../../compiler/te/expr.js";
import { StageBody, TensorType, makeComputeCtx, stageOf } from "../../compiler/te/stage.js";
import type { Kernel } from "../../compiler/ir/kernel.js";

export interface OpKernelOptions {
  dtype?: DType;
  /** Kernel name prefix (default: the op's name in lower case). */
  name?: string;
  /** Also fuse relu into each reduction's epilogue, as fusion does for an activation after a layer. */
  relu?: boolean;
  accumulate?: boolean;
}

/** The kernels (one per output) of op `opName` with string attributes `attrs` on inputs of `shapes`. */
export function opKernels(opName: string, attrs: Record<string, string>, shapes: readonly Shape[], opts: OpKernelOptions = {}): Kernel[] {
  const op = getOp(opName);
  const p = parseParams(op.params, attrs, opName) as Record<string, unknown>;
  const names = inputNamesOf(op, p);
  if (names.length !== shapes.length) throw new Error(`${opName}: ${shapes.length} input shapes for inputs ${names.join(", ")}`);
  const ins: (Shape | undefined)[] = [...shapes];
  const outs: (Shape | undefined)[] = [];
  const ctx = new ShapeCtx(ins, outs, names);
  op.inferShape(ctx, p as never);
  op.inferShape(ctx, p as never);
  const dtype = opts.dtype ?? "float32";
  const inTypes: TensorType[] = ins.map((s, i) => {
    if (!s) throw new Error(`${opName}: input ${names[i]} has no shape`);
    return { shape: s, dtype };
  });
  const outTypes: TensorType[] = outs.map((s, i) => {
    if (!s) throw new Error(`${opName}: output ${i} has no shape`);
    return { shape: s, dtype };
  });
  const bodies = op.compute!(makeComputeCtx(inTypes, outTypes), p as never);
  const stem = opts.name ?? opName.replace(/^_+/, "").toLowerCase();
  return bodies.map((body, i): Kernel => {
    let b: StageBody = body;
    if (opts.relu && b.kind === "reduce") {
      const acc = b.post ?? v("acc");
      b = { ...b, post: E.max(acc, 0) };
    }
    return { name: `${stem}_${i}`, stage: stageOf(inTypes, outTypes[i], b), accumulate: opts.accumulate ?? false, ops: [opName] };
  });
}
