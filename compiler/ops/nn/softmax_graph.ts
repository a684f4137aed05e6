/**
 * softmax and log_softmax (and their gradients) rewritten into ops that have computes: a max
 * reduction, broadcast subtraction, exp, a sum reduction and broadcast division, in the
 * reference's order of operations. One stage cannot hold them: the sum needs the max of the
 * same row, and the result needs the sum. With per-row lengths, `_length_mask` puts −∞ before
 * the max, 0 before the sum and 0 on the result, as the reference leaves positions at or
 * beyond a row's length out of both reductions and zero.
 * SoftmaxOutput's forward reuses `softmaxGraph`.
 */
import type { DecomposeCtx } from "../registry.js";
import type { NodeEntry } from "../../ir/node.js";
import type { DType } from "../../base/dtype.js";

export interface SoftmaxSpec {
  /** Normalized axis. */
  readonly axis: number;
  /** 1 for none. */
  readonly temperature: number;
  readonly log: boolean;
  /** Per-row lengths along the axis (use_length). */
  readonly length?: NodeEntry;
}

/** Keeps positions below the row's length, `value` elsewhere; identity without lengths. */
function mask(d: DecomposeCtx, e: NodeEntry, s: SoftmaxSpec, value: number): NodeEntry {
  return s.length ? d.op1("_length_mask", [e, s.length], { axis: s.axis, value }) : e;
}

function reduceRow(d: DecomposeCtx, op: "max" | "sum", e: NodeEntry, axis: number): NodeEntry {
  return d.op1(op, [e], { axis: [axis], keepdims: true });
}

/** softmax(x / T) or its log along `s.axis`: ((x − max) / T) normalized by Σ exp. */
export function softmaxGraph(d: DecomposeCtx, x: NodeEntry, s: SoftmaxSpec): NodeEntry {
  const max = reduceRow(d, "max", mask(d, x, s, -Infinity), s.axis);
  let z = d.op1("broadcast_sub", [x, max]);
  if (s.temperature !== 1) z = d.op1("_div_scalar", [z], { scalar: s.temperature });
  const e = d.op1("exp", [z]);
  const sum = reduceRow(d, "sum", mask(d, e, s, 0), s.axis);
  const out = s.log ? d.op1("broadcast_sub", [z, d.op1("log", [sum])]) : d.op1("broadcast_div", [e, sum]);
  return mask(d, out, s, 0);
}

/**
 * The gradient from ograd and the forward output y: softmax y·(og − Σ og·y) / T, log_softmax
 * (og − exp(y)·Σ og) / T.
 */
export function softmaxGradGraph(d: DecomposeCtx, og: NodeEntry, y: NodeEntry, s: SoftmaxSpec): NodeEntry {
  let dx: NodeEntry;
  if (s.log) {
    const sum = reduceRow(d, "sum", mask(d, og, s, 0), s.axis);
    dx = d.op1("elemwise_sub", [og, d.op1("broadcast_mul", [d.op1("exp", [y]), sum])]);
  } else {
    const sum = reduceRow(d, "sum", mask(d, d.op1("elemwise_mul", [og, y]), s, 0), s.axis);
    dx = d.op1("elemwise_mul", [y, d.op1("broadcast_sub", [og, sum])]);
  }
  if (s.temperature !== 1) dx = d.op1("_div_scalar", [dx], { scalar: s.temperature });
  return mask(d, dx, s, 0);
}

const FLOAT_RANK: Partial<Record<DType, number>> = { float16: 1, float32: 2, float64: 3 };

/** The wider of two types for computing in (floating types over integer ones). */
export function widerType(a: DType, b: DType): DType {
  return (FLOAT_RANK[a] ?? 0) >= (FLOAT_RANK[b] ?? 0) ? a : b;
}

/** `e` (of type `from`) as type `to`: a Cast node where they differ. */
export function castEntry(d: DecomposeCtx, e: NodeEntry, from: DType, to: DType): NodeEntry {
  return from === to ? e : d.op1("Cast", [e], { dtype: to });
}
