/**
 * The scatter family: for every point of the domain, out[index…] += value. The output is
 * zero-filled by the executor first unless the kernel accumulates. Indices may repeat, so the
 * adds are atomic where points run in parallel: CUDA atomicAdd (a CAS loop for bytes), C++
 * `#pragma omp atomic` above spec.parallelMin points; smaller domains, and float16 outputs on
 * C++ (stored as bits, which `omp atomic` cannot add), run as a serial loop.
 */
import { KilnError } from "../base/errors.js";
import { isIntType, cName } from "./ctype.js";
import { Emitter, PREC, wrap } from "./emitter.js";
import { collapse, flatOffset, foldIndex, makeGroup } from "./index_math.js";
import { Prepared, digitDecls, elementValue, flattenLoads, sizeLiteral, storeStatement } from "./prepare.js";
import { KernelSource, gridLaunch, lines, signatureFields } from "./skeleton.js";
import { template } from "./templates.js";

export function renderScatter(p: Prepared): KernelSource {
  const b = p.body;
  if (b.kind !== "scatter") throw new Error("internal: renderScatter on a non-scatter kernel");
  const { spec, indexType } = p.scope;
  const outShape = p.stage.out.shape;
  if (b.index.length !== outShape.length)
    throw new KilnError(`${p.where}: scatter index of rank ${b.index.length} for an output of rank ${outShape.length}`);
  const dom = makeGroup("k", b.axes);
  const offset = collapse(flatOffset(b.index.map((e) => foldIndex(flattenLoads(e, p, [dom]))), outShape), [dom]);
  const value = flattenLoads(b.value, p, [dom]);
  const em = new Emitter(p.scope).plan(offset, value);
  let off = em.render(offset, "f32");
  if (!isIntType(off.type)) off = { code: `(${cName(indexType)})${wrap(off, PREC.unary)}`, prec: PREC.unary, type: indexType };
  if (!/^\w+$/.test(off.code)) {
    // Named once: a float16 or serial add reads and writes the element.
    em.declare(off.type, "o", off.code);
    off = { code: "o", prec: PREC.primary, type: off.type };
  }
  const c = em.render(value, p.outFloat);
  const dtype = p.stage.out.dtype;
  const parallel = dom.total >= spec.parallelMin && dom.total > 1;
  const atomic = parallel ? spec.atomicAdd(dtype, "out", off.code, elementValue(p, c)) : undefined;
  const add = atomic ?? storeStatement(p, `out[${off.code}]`, c, true);
  const body = [...digitDecls(p, [dom], em.usedVars), ...em.lines, add];
  const source = template(spec, "scatter")({
    ...signatureFields(p, spec.blockThreads),
    size: sizeLiteral(dom.total, indexType),
    parallel: atomic !== undefined,
    body: lines(body),
  });
  return { source, launch: gridLaunch(spec, dom.total) };
}
