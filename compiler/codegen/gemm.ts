/**
 * The GEMM family: reduce stages that are contractions (contraction.ts) rendered as a tiled
 * matrix product, C[b, m, n] = Σ_k A[b, m, k] · B[b, n, k], with the stage's `post` applied
 * once per output as the epilogue (bias, activation, residual add, the accumulate add).
 *
 * The operands stay expressions: a tile is filled by evaluating A (or B) at each (m, k) of the
 * tile, so a convolution's window gather and its padding guard run while the tile is filled
 * (implicit GEMM). Counters: g_b over the batch dims, g_m / g_n over M / N, g_k over K; the
 * dims' variables are their digits (`const int i2 = g_m / 56 % 56;`), and the output position
 * is the sum of three per-side offsets, idx = g_ob + g_om + g_on.
 *
 * Targets differ in their tiles (targets.ts `gemmSchedule`) and skeletons: templates/gemm.cpp.hbs
 * (packed panels, an mr×nr register-blocked inner loop, OpenMP over tiles) and gemm.cu.hbs
 * (shared-memory tiles, tm×tn per thread, a TF32 mma.sync path on sm_80+).
 *
 * Verified: the C++ kernels against the interpreter (test/codegen) and for speed
 * (bench/gemm_cpu.ts). The CUDA kernels, SIMT and TF32 alike, are compile-checked only (nvcc
 * -cubin for sm_80 and sm_90, no ptxas spills): no GPU has run them yet.
 */
import { Expr, int, ix, v } from "../te/expr.js";
import { FloatType, cName, isFloat } from "./ctype.js";
import { Code, Emitter, PREC } from "./emitter.js";
import { Contraction, GemmDim, guardBounds } from "./contraction.js";
import { Group, collapse, makeGroup } from "./index_math.js";
import { Prepared, digitDecls, flattenLoads, sizeLiteral, storeStatement } from "./prepare.js";
import { KernelSource, lines, signatureFields } from "./skeleton.js";
import type { GemmTiles } from "./targets.js";
import { template } from "./templates.js";

/** The accumulator's type: the product's, integers promoted (as the reduce family's). */
export function accumulatorType(p: Prepared): FloatType {
  if (p.body.kind !== "reduce") throw new Error("internal: accumulatorType of a non-reduce kernel");
  const vt = p.scope.typer.typeOf(p.body.value);
  return vt === "lit" ? p.outFloat : isFloat(vt) ? (vt as FloatType) : p.scope.typer.env.promote;
}

/** Statements computing an operand's element as `x`: those reading only `outer` counters (hoistable), then the rest. */
function element(p: Prepared, e: Expr, acc: FloatType, outer: readonly Group[], inner: readonly Group[]): { outer: string[]; inner: string[] } {
  const flat = flattenLoads(e, p, [...inner, ...outer]);
  const em = new Emitter(p.scope).plan(flat);
  const x = em.render(flat, acc);
  em.declare(acc, "x", x.code);
  return { outer: digitDecls(p, outer, em.usedVars), inner: [...digitDecls(p, inner, em.usedVars), ...em.lines] };
}

/** `const idx name = Σ dim · outStride;` over one side's counter. */
function offset(p: Prepared, dims: readonly GemmDim[], g: Group, name: string): string[] {
  let e: Expr = int(0);
  for (const d of dims) e = ix.add(e, ix.mul(v(d.name), d.outStride));
  const flat = collapse(e, [g]);
  const em = new Emitter(p.scope).plan(flat);
  const c = em.render(flat, "f32");
  return [...digitDecls(p, [g], em.usedVars), ...em.lines, `const ${cName(p.scope.indexType)} ${name} = ${c.code};`];
}

/** The epilogue of one output, given `acc` (the sum) and the three offsets: post, then the store. */
function epilogue(p: Prepared, acc: FloatType): string[] {
  const b = p.body;
  if (b.kind !== "reduce") throw new Error("internal: epilogue of a non-reduce kernel");
  const outG = makeGroup("idx", p.outAxes);
  p.varTypes.set("acc", acc);
  const epi = new Emitter(p.scope);
  let result: Code = { code: "acc", prec: PREC.primary, type: acc };
  if (b.post) {
    const post = flattenLoads(b.post, p, [outG]);
    result = epi.plan(post).render(post, p.outFloat);
  }
  return [
    `const ${cName(p.scope.indexType)} idx = g_ob + g_om + g_on;`,
    ...digitDecls(p, [outG], epi.usedVars),
    ...epi.lines,
    storeStatement(p, "out[idx]", result, p.kernel.accumulate),
  ];
}

const roundUp = (n: number, q: number): number => Math.ceil(n / q) * q;

/** A one-line summary of the view for the kernel's comment. */
function describeView(c: Contraction, t: GemmTiles): string {
  const dims = (ds: readonly { name: string; extent: number }[]): string => ds.map((d) => `${d.name}:${d.extent}`).join(" ") || "-";
  const tiles = t.kind === "cache" ? `${t.mc}x${t.nc}x${t.kc} tiles, ${t.mr}x${t.nr} register blocks` : `${t.bm}x${t.bn}x${t.bk} tiles, ${t.tm}x${t.tn} per thread${t.mma ? ", TF32 mma.sync on sm_80+" : ""}`;
  return `GEMM B=${c.B} M=${c.M} N=${c.N} K=${c.K} (batch ${dims(c.batch)}; M ${dims(c.m)}; N ${dims(c.n)}; K ${dims(c.k)}): ${tiles}`;
}

/** Renders a contraction with the target's GEMM tiles. */
export function renderGemm(p: Prepared, c: Contraction, tiles: GemmTiles): KernelSource {
  const { spec, indexType } = p.scope;
  const idxT = cName(indexType);
  for (const n of ["g_b", "g_m", "g_n", "g_k", ...c.splitVars]) p.varTypes.set(n, indexType);
  const acc = accumulatorType(p);
  const bG = makeGroup("g_b", c.batch);
  const mG = makeGroup("g_m", c.m);
  const nG = makeGroup("g_n", c.n);
  const kG = makeGroup("g_k", c.k);
  const common = {
    ...signatureFields(p, tiles.kind === "block" ? tiles.threads : spec.blockThreads, tiles.kind === "block" ? 1 : 0),
    view: describeView(c, tiles),
    batched: c.batch.length > 0,
    acc: cName(acc),
    M: sizeLiteral(c.M, indexType),
    N: sizeLiteral(c.N, indexType),
    K: sizeLiteral(c.K, indexType),
    offB: lines(offset(p, c.batch, bG, "g_ob")),
    offM: lines(offset(p, c.m, mG, "g_om")),
    offN: lines(offset(p, c.n, nG, "g_on")),
    epilogue: lines(epilogue(p, acc)),
  };

  if (tiles.kind === "cache") {
    const { mr, nr, mc, nc, kc } = tiles;
    const tilesM = Math.ceil(c.M / mc);
    const tilesN = Math.ceil(c.N / nc);
    const bytes = acc === "f32" ? 4 : 8;
    /** The loops filling one operand's panels of `r` rows (K-major inside a panel), a panel's lanes innermost. */
    const pack = (e: Expr, side: Group, counter: "g_m" | "g_n", r: number, size: number, dest: string) => {
      // Rows past the side's end pad the last panel with zeros; K runs exactly to the block's end.
      const guarded = guardBounds(e, [{ counter, bound: size, needed: size % r !== 0 }]);
      const el = element(p, guarded, acc, [kG, bG], [side]);
      return { rows: counter === "g_m" ? "g_mp" : "g_np", r, counter, base: `${counter}0`, dest, outer: lines(el.outer), inner: lines(el.inner) };
    };
    const source = template(spec, "gemm")({
      ...common,
      mr,
      nr,
      mc,
      nc,
      kc,
      tilesM,
      tilesN,
      tilesMN: tilesM * tilesN,
      tasks: c.B * tilesM * tilesN,
      parallel: tiles.parallel && c.B * tilesM * tilesN > 1,
      apBytes: roundUp(mc * kc * bytes, 64),
      bpBytes: roundUp(nc * kc * bytes, 64),
      ccBytes: roundUp(mc * nc * bytes, 64),
      packs: [pack(c.a, mG, "g_m", mr, c.M, "g_ap"), pack(c.b, nG, "g_n", nr, c.N, "g_bp")],
    });
    return { source };
  }

  const { bm, bn, bk, threads, tm, tn, mma } = tiles;
  /**
   * One thread's share of a tile: elements g_e = 0, 1, … at flat positions g_f = tid + e·threads,
   * as (row, k) in the tile; consecutive threads walk the operand's fast direction, so their
   * global reads coalesce. Where a thread's row (or k) is the same for all its elements, it and
   * its digits are computed once, outside the loop.
   */
  const load = (e: Expr, side: Group, counter: "g_m" | "g_n", size: number, rows: number, kFast: boolean) => {
    const guarded = guardBounds(e, [
      { counter, bound: size, needed: size % rows !== 0 },
      { counter: "g_k", bound: c.K, needed: c.K % bk !== 0 },
    ]);
    const count = (rows * bk) / threads;
    // The fast direction's extent, and the positions in it and across it.
    const fast = kFast ? bk : rows;
    const fixed = threads % fast === 0;
    const along = fixed ? `g_tid % ${fast}` : `(g_tid + g_e * ${threads}) % ${fast}`;
    const across = fixed ? `g_tid / ${fast} + g_e * ${threads / fast}` : `(g_tid + g_e * ${threads}) / ${fast}`;
    const fixedGroup = kFast ? kG : side;
    const el = fixed ? element(p, guarded, acc, [bG, fixedGroup], [kFast ? side : kG]) : element(p, guarded, acc, [bG], [side, kG]);
    const [row, col] = kFast ? [across, along] : [along, across];
    // The loop-invariant coordinate, declared before the loop.
    const fixedVar = !fixed ? "" : kFast ? `const ${idxT} g_k = g_k0 + (${col});` : `const ${idxT} ${counter} = ${counter}0 + (${row});`;
    const movingVars = !fixed
      ? [`const ${idxT} ${counter} = ${counter}0 + (${row});`, `const ${idxT} g_k = g_k0 + (${col});`]
      : [kFast ? `const ${idxT} ${counter} = ${counter}0 + (${row});` : `const ${idxT} g_k = g_k0 + (${col});`];
    return { row, col, count, outer: lines([...(fixedVar ? [fixedVar] : []), ...el.outer]), inner: lines([...movingVars, ...el.inner]) };
  };
  const vm = Math.min(4, tm);
  const vn = Math.min(4, tn);
  const mmaFields = mma && {
    warpsN: mma.warpsN,
    wtm: bm / mma.warpsM,
    wtn: bn / mma.warpsN,
    mi: bm / mma.warpsM / 16,
    ni: bn / mma.warpsN / 8,
  };
  const source = template(spec, "gemm")({
    ...common,
    bm,
    bn,
    bk,
    pad: 8,
    threads,
    tm,
    tn,
    tx: bn / tn,
    vm,
    vn,
    rowStride: (bm * vm) / tm,
    colStride: (bn * vn) / tn,
    kTiles: Math.ceil(c.K / bk),
    loadA: load(c.a, mG, "g_m", c.M, bm, c.aKFast),
    loadB: load(c.b, nG, "g_n", c.N, bn, c.bKFast),
    mma: mmaFields,
  });
  return {
    source,
    launch: { grid: [Math.ceil(c.M / bm), Math.ceil(c.N / bn), c.B], block: [threads, 1, 1], sharedBytes: 0 },
    tensorCores: !!mma,
  };
}
