/** Matrix products with MXNet's semantics: dot (N-D, contracting one axis) and batch_dot (batched over leading axes). */
import { defineOp, singleOutput, ShapeCtx } from "./registry.js";
import { P } from "./params.js";
import { Tensor } from "./tensor.js";
import { Shape, shapeSize } from "../base/shape.js";
import { ShapeError } from "../base/errors.js";
import { show } from "./shape/util.js";
import { E, Expr, int, v } from "../te/expr.js";
import type { ComputeCtx, StageBody } from "../te/stage.js";

const dotParams = {
  transpose_a: P.bool(false, "Use the transpose of lhs (contract its first axis instead of its last)."),
  transpose_b: P.bool(false, "Use the transpose of rhs (contract its last axis instead of its first)."),
  forward_stype: P.str.optional("Storage type of the output in MXNet (None, default, row_sparse, csr); Kiln is dense only."),
};

interface DotP {
  transpose_a: boolean;
  transpose_b: boolean;
}

/** Merges dim `i` of input `a` with dim `j` of input `b` (the contracted pair); throws when they differ. */
function contract(ctx: ShapeCtx, i: number, j: number, what: () => string): void {
  const l = ctx.in(0)!;
  const r = ctx.in(1)!;
  if (l[i] > 0 && r[j] > 0 && l[i] !== r[j]) throw new ShapeError(what());
  const k = l[i] || r[j];
  ctx.setIn(0, l.map((d, x) => (x === i ? k : d)));
  ctx.setIn(1, r.map((d, x) => (x === j ? k : d)));
}

/** The kept (non-contracted) dims of each side under dot's transposes. */
function keptDims(l: Shape, r: Shape, p: DotP): [number[], number[]] {
  return [p.transpose_a ? l.slice(1) : l.slice(0, -1), p.transpose_b ? r.slice(0, -1) : r.slice(1)];
}

function dotShape(ctx: ShapeCtx, p: DotP): void {
  const l = ctx.in(0);
  const r = ctx.in(1);
  if (!l || !r) return;
  const where = (): string => `dot shape error: ${show(l)} X ${show(r)}${p.transpose_a ? " (transpose_a)" : ""}${p.transpose_b ? " (transpose_b)" : ""}`;
  if (l.length === 0 || r.length === 0) throw new ShapeError(`${where()}: inputs need at least 1 dim`);
  if (l.length === 1 && r.length === 1) {
    if (p.transpose_a || p.transpose_b) throw new ShapeError(`${where()}: cannot transpose vectors`);
    contract(ctx, 0, 0, where);
    ctx.setOut(0, [1]);
    return;
  }
  contract(ctx, p.transpose_a ? 0 : l.length - 1, p.transpose_b ? r.length - 1 : 0, where);
  const [lk, rk] = keptDims(ctx.in(0)!, ctx.in(1)!, p);
  ctx.setOut(0, [...lk, ...rk]);
  const o = ctx.out(0)!;
  const L = ctx.in(0)!;
  const R = ctx.in(1)!;
  const lo = o.slice(0, lk.length);
  const ro = o.slice(lk.length);
  ctx.setIn(0, p.transpose_a ? [L[0], ...lo] : [...lo, L[L.length - 1]]);
  ctx.setIn(1, p.transpose_b ? [...ro, R[R.length - 1]] : [R[0], ...ro]);
}

/** The matrix views of dot's operands: op(A) is M×K, op(B) is K×N. */
function dotViews(l: Shape, r: Shape, p: DotP) {
  const aRows = p.transpose_a ? l[0] : shapeSize(l.slice(0, -1));
  const aCols = shapeSize(l) / aRows;
  const bRows = p.transpose_b ? shapeSize(r.slice(0, -1)) : r[0];
  const bCols = shapeSize(r) / bRows;
  const [M, K] = p.transpose_a ? [aCols, aRows] : [aRows, aCols];
  const N = p.transpose_b ? bRows : bCols;
  // Flat offsets of op(A)[i,k] and op(B)[k,j] in the stored arrays.
  const a = (i: number, k: number): number => (p.transpose_a ? k * aCols + i : i * aCols + k);
  const b = (k: number, j: number): number => (p.transpose_b ? j * bCols + k : k * bCols + j);
  return { M, K, N, a, b };
}

function dotOutShape(l: Shape, r: Shape, p: DotP): number[] {
  if (l.length === 1 && r.length === 1) return [1];
  const [lk, rk] = keptDims(l, r, p);
  return [...lk, ...rk];
}

/** Σ over fresh axes of the given extents of f(axis vars); a plain map when there is nothing to sum. */
function sumOver(ctx: ComputeCtx, extents: readonly number[], f: (r: Expr[]) => Expr): StageBody {
  if (extents.length === 0) return { kind: "map", value: f([]) };
  const axes = ctx.axes(...extents);
  return { kind: "reduce", op: "sum", axes, value: f(axes.map((a) => v(a.name))) };
}

/**
 * dot's operands as index functions of (kept lhs index p, kept rhs index q, contracted k),
 * with the kept dims of each side. Two vectors contract to a (1,) output whose index is 0.
 */
function dotIndexing(l: Shape, r: Shape, p: DotP) {
  const vv = l.length === 1 && r.length === 1;
  const [lk, rk] = vv ? [[], []] : keptDims(l, r, p);
  const K = p.transpose_a ? l[0] : l[l.length - 1];
  return {
    K,
    lk,
    rk,
    lhs: (pi: Expr[], k: Expr): Expr[] => (p.transpose_a ? [k, ...pi] : [...pi, k]),
    rhs: (q: Expr[], k: Expr): Expr[] => (p.transpose_b ? [...q, k] : [k, ...q]),
    out: (pi: Expr[], q: Expr[]): Expr[] => (vv ? [int(0)] : [...pi, ...q]),
  };
}

export const dot = defineOp({
  name: "dot",
  doc: "Dot product: contracts the last axis of lhs (first, with transpose_a) with the first axis of rhs (last, with transpose_b).",
  params: dotParams,
  inputs: ["lhs", "rhs"],
  ...singleOutput,
  pattern: "outEWiseFusable",
  inferShape: (ctx, p) => dotShape(ctx, p),
  gradient: (g) => g.op("_backward_dot", [g.ograd(), g.input(0), g.input(1)], g.params),
  compute: (ctx, p) => {
    const [L, R] = ctx.inputs;
    const d = dotIndexing(L.shape, R.shape, p);
    const i = ctx.index();
    // Two vectors: the single output element ignores its index.
    const [pi, q] = L.shape.length === 1 && R.shape.length === 1 ? [[], []] : [i.slice(0, d.lk.length), i.slice(d.lk.length)];
    return [sumOver(ctx, [d.K], ([k]) => E.mul(L.at(d.lhs(pi, k)), R.at(d.rhs(q, k))))];
  },
  forward: (p, [l, r]) => {
    const { M, K, N, a, b } = dotViews(l.shape, r.shape, p);
    const out = new Tensor(dotOutShape(l.shape, r.shape, p));
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += l.data[a(i, k)] * r.data[b(k, j)];
        out.data[i * N + j] = s;
      }
    return [out];
  },
});

export const backwardDot = defineOp({
  name: "_backward_dot",
  doc: "The gradient of dot: (d lhs, d rhs) from ograd, in the matrix views dot uses.",
  params: dotParams,
  inputs: ["ograd", "lhs", "rhs"],
  outputNames: () => ["lhs", "rhs"],
  numVisibleOutputs: () => 2,
  pattern: "opaque",
  inferShape: (ctx) => {
    ctx.setOut(0, ctx.in(1));
    ctx.setOut(1, ctx.in(2));
    ctx.setIn(1, ctx.out(0));
    ctx.setIn(2, ctx.out(1));
  },
  // d lhs[p, k] = Σ_q g[p, q] rhs[k, q];  d rhs[k, q] = Σ_p lhs[p, k] g[p, q] (indices as dot's views).
  compute: (ctx, p) => {
    const [G, L, R] = ctx.inputs;
    const d = dotIndexing(L.shape, R.shape, p);
    // Splits an index of lhs (rhs) into its kept part and the contracted k.
    const lhsParts = (i: Expr[]): [Expr[], Expr] => (p.transpose_a ? [i.slice(1), i[0]] : [i.slice(0, -1), i[i.length - 1]]);
    const rhsParts = (i: Expr[]): [Expr[], Expr] => (p.transpose_b ? [i.slice(0, -1), i[i.length - 1]] : [i.slice(1), i[0]]);
    const [pl, kl] = lhsParts(ctx.index(0));
    const [qr, kr] = rhsParts(ctx.index(1));
    return [
      sumOver(ctx, d.rk, (q) => E.mul(G.at(d.out(pl, q)), R.at(d.rhs(q, kl)))),
      sumOver(ctx, d.lk, (pi) => E.mul(L.at(d.lhs(pi, kr)), G.at(d.out(pi, qr)))),
    ];
  },
  forward: (p, [g, l, r]) => {
    const { M, K, N, a, b } = dotViews(l.shape, r.shape, p);
    const dl = new Tensor(l.shape);
    const dr = new Tensor(r.shape);
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        const gij = g.data[i * N + j];
        for (let k = 0; k < K; k++) {
          dl.data[a(i, k)] += gij * r.data[b(k, j)];
          dr.data[b(k, j)] += l.data[a(i, k)] * gij;
        }
      }
    return [dl, dr];
  },
});

export const batchDot = defineOp({
  name: "batch_dot",
  doc: "Batched matrix product over the last two axes: (..., M, K) x (..., K, N) -> (..., M, N), equal ranks >= 3, each side optionally transposed.",
  params: dotParams,
  inputs: ["lhs", "rhs"],
  ...singleOutput,
  pattern: "outEWiseFusable",
  inferShape: (ctx, p) => {
    const l = ctx.in(0);
    const r = ctx.in(1);
    if (!l || !r) return;
    const where = (): string => `batch_dot shape error: ${show(l)} X ${show(r)}${p.transpose_a ? " (transpose_a)" : ""}${p.transpose_b ? " (transpose_b)" : ""}`;
    const nd = l.length;
    if (nd < 3 || r.length !== nd) throw new ShapeError(`${where()}: batch_dot needs two arrays of one rank, at least 3-D`);
    for (let i = 0; i < nd - 2; i++) contract(ctx, i, i, where);
    contract(ctx, nd - (p.transpose_a ? 2 : 1), nd - (p.transpose_b ? 1 : 2), where);
    const L = ctx.in(0)!;
    const R = ctx.in(1)!;
    const batch = L.slice(0, -2);
    ctx.setOut(0, [...batch, p.transpose_a ? L[nd - 1] : L[nd - 2], p.transpose_b ? R[nd - 2] : R[nd - 1]]);
    const o = ctx.out(0)!;
    const [ob, m, n] = [o.slice(0, -2), o[nd - 2], o[nd - 1]];
    ctx.setIn(0, [...ob, ...(p.transpose_a ? [L[nd - 2], m] : [m, L[nd - 1]])]);
    ctx.setIn(1, [...ob, ...(p.transpose_b ? [n, R[nd - 1]] : [R[nd - 2], n])]);
  },
  gradient: (g) => {
    const { transpose_a: ta, transpose_b: tb } = g.params;
    const [G, A, B] = [g.ograd(), g.input(0), g.input(1)];
    const bd = (x: typeof G, y: typeof G, transpose_a: boolean, transpose_b: boolean) => g.op1("batch_dot", [x, y], { transpose_a, transpose_b });
    if (!ta && !tb) return [bd(G, B, false, true), bd(A, G, true, false)];
    if (ta && !tb) return [bd(B, G, false, true), bd(A, G, false, false)];
    if (!ta && tb) return [bd(G, B, false, false), bd(G, A, true, false)];
    return [bd(B, G, true, true), bd(G, A, true, true)];
  },
  compute: (ctx, p) => {
    const [L, R] = ctx.inputs;
    const nd = L.shape.length;
    const i = ctx.index();
    const [b, m, n] = [i.slice(0, nd - 2), i[nd - 2], i[nd - 1]];
    const K = p.transpose_a ? L.shape[nd - 2] : L.shape[nd - 1];
    return [
      sumOver(ctx, [K], ([k]) =>
        E.mul(L.at([...b, ...(p.transpose_a ? [k, m] : [m, k])]), R.at([...b, ...(p.transpose_b ? [n, k] : [k, n])])),
      ),
    ];
  },
  forward: (p, [l, r]) => {
    const nd = l.ndim;
    const B = shapeSize(l.shape.slice(0, -2));
    const [lr, lc] = l.shape.slice(-2);
    const [rr, rc] = r.shape.slice(-2);
    const [M, K] = p.transpose_a ? [lc, lr] : [lr, lc];
    const N = p.transpose_b ? rr : rc;
    const out = new Tensor([...l.shape.slice(0, nd - 2), M, N]);
    for (let n = 0; n < B; n++)
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) {
            const av = l.data[n * lr * lc + (p.transpose_a ? k * lc + i : i * lc + k)];
            const bv = r.data[n * rr * rc + (p.transpose_b ? j * rc + k : k * rc + j)];
            s += av * bv;
          }
          out.data[(n * M + i) * N + j] = s;
        }
    return [out];
  },
});
