/**
 * NumPy-style broadcasting as MXNet's broadcast_* ops do it (BinaryBroadcastShape): shapes are
 * right-aligned, missing leading dims count as 1, and each dim pair must be equal or have a 1.
 * Partial shapes: an unknown dim (0) stays unknown unless the other side decides it.
 */
import { ShapeCtx, GradCtx } from "../registry.js";
import { Shape, shapeToBracket } from "../../base/shape.js";
import { ShapeError } from "../../base/errors.js";
import type { NodeEntry } from "../../ir/node.js";

/** The output shape of broadcasting a and b, with 0 where it cannot be known yet. */
export function broadcastPartial(a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const l = i < n - a.length ? 1 : a[i - (n - a.length)];
    const r = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (l > 0 && r > 0) {
      if (l !== r && l !== 1 && r !== 1)
        throw new ShapeError(`operands could not be broadcast together with shapes ${shapeToBracket(a)} ${shapeToBracket(b)}`);
      out.push(l === 1 ? r : l);
    } else if (l > 1) out.push(l);
    else if (r > 1) out.push(r);
    else out.push(0);
  }
  return out;
}

/**
 * Shape rule of a two-input broadcasting op. Forward as MXNet; backward, an input's unknown
 * dim is filled from the output where the other input has 1 there (then it must equal the output).
 */
export function broadcastShape(ctx: ShapeCtx): void {
  const a = ctx.in(0);
  const b = ctx.in(1);
  if (a === undefined || b === undefined) return;
  ctx.setOut(0, broadcastPartial(a, b));
  const out = ctx.out(0)!;
  const n = out.length;
  const fill = (me: Shape, other: Shape): number[] =>
    me.map((d, j) => {
      const i = j + n - me.length;
      const o = i < n - other.length ? 1 : other[i - (n - other.length)];
      return d === 0 && o === 1 ? out[i] : d;
    });
  ctx.setIn(0, fill(a, b));
  ctx.setIn(1, fill(b, a));
}

/** Sums a gradient of the broadcast shape back to the shape of `like` (a forward input). */
export function reduceTo(g: GradCtx<unknown>, grad: NodeEntry, like: NodeEntry): NodeEntry {
  return g.op1("_backward_broadcast_reduce", [grad, like]);
}
