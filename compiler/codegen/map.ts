/**
 * The map family: out[i…] = value(i…) for every output element, one flat loop over the output
 * (OpenMP-parallel in C++ when large enough, grid-stride on CUDA). On targets with vector
 * loads, a kernel whose every load reads the element at the output's own position (a purely
 * elementwise kernel) also gets a 128-bit path: each thread loads float4/int4/double2 lanes,
 * computes them, and stores one vector; it runs when all pointers are 16-byte aligned (checked
 * at run time), else the scalar loop runs.
 */
import type { DType } from "../base/dtype.js";
import { Expr, v } from "../te/expr.js";
import { computeType } from "./ctype.js";
import { Emitter } from "./emitter.js";
import { makeGroup } from "./index_math.js";
import { Prepared, digitDecls, flattenLoads, sizeLiteral, storeStatement } from "./prepare.js";
import { KernelSource, gridLaunch, lines, signatureFields } from "./skeleton.js";
import { template } from "./templates.js";

/**
 * 16-byte vector types of the dtypes the vector path handles, with their lane count. Not
 * double2: two lanes of float64 math (atan, exp) each keep a slow-path call live, and ptxas
 * spills around them.
 */
const VECTOR: Partial<Record<DType, { type: string; lanes: number }>> = {
  float32: { type: "float4", lanes: 4 },
  int32: { type: "int4", lanes: 4 },
};
const LANES = ["x", "y", "z", "w"];

export function renderMap(p: Prepared): KernelSource {
  if (p.body.kind !== "map") throw new Error("internal: renderMap on a non-map kernel");
  const { spec, indexType } = p.scope;
  const out = makeGroup("idx", p.outAxes);
  const value = flattenLoads(p.body.value, p, [out]);
  const em = new Emitter(p.scope).plan(value);
  const c = em.render(value, p.outFloat);
  const body = [...digitDecls(p, [out], em.usedVars), ...em.lines, storeStatement(p, "out[idx]", c, p.kernel.accumulate)];
  const source = template(spec, "map")({
    ...signatureFields(p, spec.blockThreads),
    size: sizeLiteral(out.total, indexType),
    parallel: out.total >= spec.parallelMin && out.total > 1,
    body: lines(body),
    vector: spec.vectorBytes ? vectorPath(p, value, out.total) : false,
  });
  return { source, launch: gridLaunch(spec, out.total) };
}

/** The loads of e when every one reads position `idx` and nothing else reads an index; else undefined. */
function elementwiseLoads(e: Expr, found: Set<number>): boolean {
  switch (e.kind) {
    case "var":
      return false;
    case "const":
      return true;
    case "load":
      found.add(e.tensor);
      return e.index.length === 1 && e.index[0].kind === "var" && e.index[0].name === "idx";
    case "call":
      return e.args.every((a) => elementwiseLoads(a, found));
    case "select":
      return elementwiseLoads(e.cond, found) && elementwiseLoads(e.a, found) && elementwiseLoads(e.b, found);
    case "cast":
      return elementwiseLoads(e.x, found);
  }
}

function replaceLoads(e: Expr, f: (tensor: number) => Expr): Expr {
  switch (e.kind) {
    case "var":
    case "const":
      return e;
    case "load":
      return f(e.tensor);
    case "call":
      return { kind: "call", fn: e.fn, args: e.args.map((a) => replaceLoads(a, f)) };
    case "select":
      return { kind: "select", cond: replaceLoads(e.cond, f), a: replaceLoads(e.a, f), b: replaceLoads(e.b, f) };
    case "cast":
      return { kind: "cast", dtype: e.dtype, x: replaceLoads(e.x, f) };
  }
}

/** The vector path's template fields, or false when the kernel does not qualify. */
function vectorPath(p: Prepared, value: Expr, total: number) {
  const tensors = new Set<number>();
  if (!elementwiseLoads(value, tensors)) return false;
  const outDType = p.stage.out.dtype;
  const vec = VECTOR[outDType];
  const dts = [...tensors].map((t) => p.stage.inputs[t].dtype);
  if (!vec || total % vec.lanes !== 0 || total < vec.lanes || dts.some((d) => VECTOR[d]?.lanes !== vec.lanes)) return false;
  const body: string[] = [];
  for (const t of [...tensors].sort((a, b) => a - b)) body.push(`const ${VECTOR[p.stage.inputs[t].dtype]!.type} l${t} = ((const ${VECTOR[p.stage.inputs[t].dtype]!.type}*)in${t})[v];`);
  body.push(p.kernel.accumulate ? `${vec.type} r = ((${vec.type}*)out)[v];` : `${vec.type} r;`);
  for (let lane = 0; lane < vec.lanes; lane++) {
    const l = LANES[lane];
    const lanesValue = replaceLoads(value, (t) => {
      p.varTypes.set(`l${t}.${l}`, computeType(p.stage.inputs[t].dtype));
      return v(`l${t}.${l}`);
    });
    const em = new Emitter(p.scope).plan(lanesValue);
    const c = em.render(lanesValue, p.outFloat);
    body.push(...em.lines, storeStatement(p, `r.${l}`, c, p.kernel.accumulate));
  }
  body.push(`((${vec.type}*)out)[v] = r;`);
  const pointers = [...[...tensors].sort((a, b) => a - b).map((t) => `in${t}`), "out"];
  return { count: sizeLiteral(total / vec.lanes, p.scope.indexType), aligned: pointers.map((x) => `(unsigned long long)${x}`).join(" | "), body: lines(body) };
}
