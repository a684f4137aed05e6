/** Shape and gradient rules many rows share. */
import { ShapeCtx, GradCtx } from "./registry.js";
import { Shape, mergeShapes, shapeToBracket } from "../base/shape.js";
import { ShapeError } from "../base/errors.js";
import type { NodeEntry } from "../ir/node.js";

/** Every input and output has one shape (elementwise ops): known dims flow in all directions. */
export function sameShape(ctx: ShapeCtx, inputs: number[] = ctx.inputs.map((_, i) => i), outputs: number[] = [0]): void {
  let s: Shape | undefined;
  const fold = (t: Shape | undefined, what: string): void => {
    const m = mergeShapes(s, t);
    if (!m.ok) throw new ShapeError(`Shape inconsistent: ${what} is ${shapeToBracket(t)} but another input or output is ${shapeToBracket(s)}`);
    s = m.shape;
  };
  inputs.forEach((i) => fold(ctx.in(i), `input ${ctx.inputNames[i] ?? i}`));
  outputs.forEach((o) => fold(ctx.out(o), `output ${o}`));
  if (s === undefined) return;
  inputs.forEach((i) => ctx.setIn(i, s));
  outputs.forEach((o) => ctx.setOut(o, s));
}

/** Gradient of a single-input op whose derivative is f'(x) given as graph nodes: ograd * f'(x). */
export function chain(g: GradCtx<unknown>, derivative: NodeEntry): NodeEntry {
  return g.op1("elemwise_mul", [g.ograd(), derivative]);
}
