/** Small helpers shared by the op mappings. */
import { Symbol } from "../../symbol/symbol.js";
import { DType } from "../../base/dtype.js";
import { shapeSize } from "../../base/shape.js";
import type { MapOutput, NodeCtx } from "../node_ctx.js";

/** A non-negative axis from ONNX's (negative counts from the end), checked against the rank. */
export function normAxis(n: NodeCtx, axis: number, rank: number, what = "axis"): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) n.fail(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Whether every given input of the node is an ONNX scalar. */
export function allScalar(n: NodeCtx): boolean {
  for (let i = 0; i < n.numInputs; i++) if (n.has(i) && !n.isScalar(i)) return false;
  return true;
}

/** The output with the ONNX scalar flag when `scalar`. */
export function out(sym: Symbol, scalar: boolean): MapOutput {
  return scalar ? { sym, scalar: true } : sym;
}

export function cast(n: NodeCtx, x: Symbol, dtype: DType): Symbol {
  return n.symDType(x) === dtype ? x : n.op("Cast", { data: x, dtype });
}

export function reshape(n: NodeCtx, x: Symbol, shape: readonly number[]): Symbol {
  const have = n.symShape(x);
  if (have && have.length === shape.length && have.every((d, i) => d === shape[i])) return x;
  return n.op("Reshape", { data: x, shape: [...shape] });
}

/** numpy broadcasting of known shapes. */
export function broadcastDims(n: NodeCtx, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const outDims: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) n.fail(`shapes [${a.join(",")}] and [${b.join(",")}] do not broadcast`);
    outDims.push(x === 1 ? y : x);
  }
  return outDims;
}

/** `x` broadcast to `dims` (Kiln's broadcast_to after a reshape to the same rank). */
export function broadcastTo(n: NodeCtx, x: Symbol, from: readonly number[], dims: readonly number[]): Symbol {
  if (from.length === dims.length && from.every((d, i) => d === dims[i])) return x;
  const padded = [...new Array<number>(dims.length - from.length).fill(1), ...from];
  const y = reshape(n, x, padded.length ? padded : [1]);
  if (padded.every((d, i) => d === dims[i])) return y;
  return n.op("broadcast_to", { data: y, shape: [...dims] });
}

export function size(dims: readonly number[]): number {
  return shapeSize(dims);
}
