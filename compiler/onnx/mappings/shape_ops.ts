/**
 * Shape-changing ONNX ops: Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Expand, Tile,
 * DepthToSpace, SpaceToDepth. Shapes, axes and repeats given as inputs (newer opsets) must be
 * constants (initializers, Constant nodes or folded values); with the input's shape known the
 * target shape is resolved at import.
 */
import { Symbol } from "../../symbol/symbol.js";
import type { NodeCtx } from "../node_ctx.js";
import { defineMappings, Mapper } from "./registry.js";
import { normAxis, out, reshape, broadcastDims, broadcastTo, size } from "./util.js";

function fullyKnown(s: readonly number[] | undefined): boolean {
  return s !== undefined && s.every((d) => d > 0);
}

const reshapeOp: Mapper = (n) => {
  const spec = n.opset < 5 ? n.ints("shape") ?? n.fail("has no shape attribute") : n.constInts(1, "shape");
  const allowzero = n.int("allowzero", 0) !== 0;
  if (allowzero && spec.includes(0)) n.unsupported("allowzero with a 0 in the shape (zero-size tensor)");
  const x = n.in(0);
  const ishape = n.shape(0);
  if (ishape !== undefined && fullyKnown(ishape)) {
    const target = spec.map((d, i) => (d === 0 ? ishape[i] : d));
    const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const inferred = target.map((d) => (d === -1 ? size(ishape) / known : d));
    if (inferred.some((d) => !Number.isInteger(d) || d <= 0) || size(inferred) !== size(ishape))
      n.fail(`cannot reshape [${ishape.join(",")}] to [${spec.join(",")}]`);
    return [out(n.op("Reshape", { data: x, shape: inferred.length ? inferred : [1] }), inferred.length === 0)];
  }
  if (spec.length === 0) n.fail("reshape to a scalar needs the input shape");
  return [n.op("Reshape", { data: x, shape: spec })];
};

const flatten: Mapper = (n) => {
  const x = n.in(0);
  const r = n.rank(0);
  const axis = n.int("axis", 1);
  const a = axis < 0 ? axis + r : axis;
  if (a < 0 || a > r) n.fail(`axis ${axis} is out of range for rank ${r}`);
  const s = n.shape(0)!;
  if (fullyKnown(s)) return [n.op("Reshape", { data: x, shape: [size(s.slice(0, a)), size(s.slice(a))] })];
  if (a === 1) return [n.op("Flatten", { data: x })];
  if (a === 0) return [n.op("Reshape", { data: x, shape: [1, -1] })];
  return n.fail("Flatten with axis other than 0 or 1 needs the input shape");
};

const transpose: Mapper = (n) => {
  const r = n.rank(0);
  const perm = n.ints("perm") ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  if (r <= 1) return [out(n.op("_copy", { data: n.in(0) }), n.isScalar(0))];
  return [n.op("transpose", { data: n.in(0), axes: perm.map((p) => normAxis(n, p, r, "perm entry")) })];
};

function axesArg(n: NodeCtx, fromOpset: number): number[] | undefined {
  if (n.opset < fromOpset) return n.ints("axes");
  return n.has(1) ? n.constInts(1, "axes") : undefined;
}

const squeeze: Mapper = (n) => {
  const s = n.shape(0);
  if (s === undefined) return n.fail("the input's rank must be known");
  const r = s.length;
  const given = axesArg(n, 13);
  const axes = given ? given.map((a) => normAxis(n, a, r)) : s.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
  if (!given && s.some((d) => d === 0)) n.fail("Squeeze without axes needs the input shape");
  for (const a of axes) if (s[a] !== 1 && s[a] !== 0) n.fail(`cannot squeeze axis ${a} of size ${s[a]}`);
  const kept = s.filter((_, i) => !axes.includes(i));
  const x = n.in(0);
  if (kept.length === 0) return [out(reshape(n, x, [1]), true)];
  if (fullyKnown(s)) return [n.op("Reshape", { data: x, shape: kept })];
  return [n.op("squeeze", { data: x, axis: axes })];
};

const unsqueeze: Mapper = (n) => {
  const s = n.shape(0);
  if (s === undefined) return n.fail("the input's rank must be known");
  const axes = axesArg(n, 13) ?? n.fail("has no axes");
  const r = s.length + axes.length;
  const norm = axes.map((a) => normAxis(n, a, r)).sort((a, b) => a - b);
  const target: number[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) target.push(norm.includes(i) ? 1 : s[k++]);
  const x = n.in(0);
  if (fullyKnown(s) || s.length === 0) return [n.op("Reshape", { data: x, shape: target })];
  let y: Symbol = x;
  for (const a of norm) y = n.op("expand_dims", { data: y, axis: a });
  return [y];
};

const expand: Mapper = (n) => {
  const want = n.constInts(1, "shape");
  const s = n.fullShape(0);
  const dims = broadcastDims(n, s, want);
  if (dims.length === 0) return [out(n.op("_copy", { data: n.in(0) }), true)];
  const x = n.in(0);
  const y = broadcastTo(n, x, s, dims);
  return [y === x ? n.op("_copy", { data: y }) : y];
};

const tile: Mapper = (n) => {
  const reps = n.constInts(1, "repeats");
  const s = n.fullShape(0);
  if (reps.length !== s.length) n.fail(`repeats has ${reps.length} entries for rank ${s.length}`);
  if (reps.some((r) => r <= 0)) n.unsupported("zero repeats (zero-size tensor)");
  if (reps.every((r) => r === 1)) return [n.op("_copy", { data: n.in(0) })];
  const inter = s.flatMap((d) => [1, d]);
  const big = s.flatMap((d, i) => [reps[i], d]);
  const y = n.op("broadcast_to", { data: reshape(n, n.in(0), inter), shape: big });
  return [n.op("Reshape", { data: y, shape: s.map((d, i) => d * reps[i]) })];
};

const depthToSpace: Mapper = (n) => {
  const [N, C, H, W] = n.fullShape(0);
  if (n.rank(0) !== 4) n.fail("needs a 4-D input");
  const b = n.int("blocksize") ?? n.fail("has no blocksize");
  const mode = n.str("mode", "DCR");
  const c = C / (b * b);
  const crd = mode === "CRD";
  const r = reshape(n, n.in(0), crd ? [N, c, b, b, H, W] : [N, b, b, c, H, W]);
  const t = n.op("transpose", { data: r, axes: crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2] });
  return [n.op("Reshape", { data: t, shape: [N, c, H * b, W * b] })];
};

const spaceToDepth: Mapper = (n) => {
  const [N, C, H, W] = n.fullShape(0);
  if (n.rank(0) !== 4) n.fail("needs a 4-D input");
  const b = n.int("blocksize") ?? n.fail("has no blocksize");
  const r = reshape(n, n.in(0), [N, C, H / b, b, W / b, b]);
  const t = n.op("transpose", { data: r, axes: [0, 3, 5, 1, 2, 4] });
  return [n.op("Reshape", { data: t, shape: [N, C * b * b, H / b, W / b] })];
};

defineMappings({
  Reshape: reshapeOp,
  Flatten: flatten,
  Transpose: transpose,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Expand: expand,
  Tile: tile,
  DepthToSpace: depthToSpace,
  SpaceToDepth: spaceToDepth,
});
