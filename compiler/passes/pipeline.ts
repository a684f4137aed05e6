/**
 * The compiler pipeline for one bound graph: mirror → decompose → (user passes) →
 * inferShape/inferType → fuse → lower → planMemory. The result is a Program: kernels in
 * schedule order with the buffer each argument lives in (pool offsets, bound arrays), split
 * into a forward and a backward segment, plus the memory report. Backends render, compile
 * and run it (runtime/executor/compiled.ts).
 */
import { Graph } from "../ir/graph.js";
import { Node } from "../ir/node.js";
import { Kernel, makeKernel } from "../ir/kernel.js";
import { Shape, shapeSize } from "../base/shape.js";
import { DType, DTYPE_BYTES } from "../base/dtype.js";
import { KilnError } from "../base/errors.js";
import { load } from "../te/expr.js";
import { TensorType, indexVars } from "../te/stage.js";
import { inferShapes } from "./infer_shape.js";
import { inferTypes } from "./infer_type.js";
import { decompose, RANDOM_SEED_NAME } from "./decompose.js";
import { mirror } from "./mirror.js";
import { neededEntries } from "./stages.js";
import { fuse } from "./fuse.js";
import { lower, ScheduledKernel } from "./lower.js";
import { planMemory } from "./plan_memory.js";
import { PassManager, PassTiming, UserPass, dumpGraph } from "./pass_manager.js";
import { BufferRef, Destination, MemoryReport, Program, ProgramStep, VariableRole, describeProgram } from "./program.js";

export interface CompileRequest {
  /** For logs: "forward", "train", … */
  label: string;
  /** Outputs: forward outputs, then gradient entries. */
  graph: Graph;
  /** Nodes of the forward pass (the rest is backward). */
  forwardNodes: ReadonlySet<Node>;
  isTrain: boolean;
  /** Where each graph output goes, in order. */
  destinations: readonly Destination[];
  /** The array behind each variable, by name (the random seed is added by the pipeline). */
  variables: ReadonlyMap<string, VariableRole>;
  shapes: ReadonlyMap<string, Shape>;
  dtypes: ReadonlyMap<string, DType>;
  /** Fuse kernels (default true). */
  fuse?: boolean;
  /** Mirror every cheap forward node (nodes marked `__force_mirroring__` are mirrored anyway). */
  mirror?: boolean;
  /** In-place reuse in the memory plan (default true). */
  inplace?: boolean;
  passes?: readonly UserPass[];
}

const bytesOf = (t: TensorType): number => shapeSize(t.shape) * DTYPE_BYTES[t.dtype];

/** Compiles a bound graph into a Program. Pure: the request's graph is not modified. */
export function compileGraph(req: CompileRequest): Program {
  const pm = new PassManager(req.label, req.passes ?? []);
  const fuseOn = req.fuse ?? true;
  const input = req.graph;
  if (req.destinations.length !== input.outputs.length) throw new Error(`compileGraph: ${req.destinations.length} destinations for ${input.outputs.length} outputs`);

  const infer = (g: Graph, what: string): { shapes: (Shape | undefined)[]; dtypes: (DType | undefined)[] } =>
    pm.run(
      what,
      () => ({ shapes: inferShapes(g, req.shapes), dtypes: inferTypes(g, req.dtypes) }),
      (r) => `${r.shapes.filter((s) => s === undefined).length} unknown shapes`,
    );
  const t0 = infer(input, "inferShape (bound graph)");
  const naiveBytes = input.nodes.reduce((acc, n, nid) => {
    if (n.isVariable) return acc;
    return acc + input.outputEntryIds(nid).reduce((a, e) => a + (t0.shapes[e] ? shapeSize(t0.shapes[e]!) * DTYPE_BYTES[t0.dtypes[e] ?? "float32"] : 0), 0);
  }, 0);

  // Mirroring only makes sense when there is a backward pass.
  let graph = pm.userPasses("before", "mirror", input);
  const hasBackward = graph.nodes.some((n) => !n.isVariable && !req.forwardNodes.has(n));
  let mirrorCount = 0;
  if (req.isTrain && hasBackward) {
    const before = graph;
    const m = pm.run("mirror", () => mirror(before, req.forwardNodes, { global: req.mirror ?? false }), (r) => `${r.mirrors.size} mirrored nodes`, (r) => dumpGraph(r.graph));
    graph = m.graph;
    mirrorCount = m.mirrors.size;
  }
  graph = pm.userPasses("after", "mirror", graph);

  graph = pm.userPasses("before", "decompose", graph);
  const t1 = graph === input ? t0 : infer(graph, "inferShape (before decompose)");
  const pre = graph;
  const d = pm.run("decompose", () => decompose(pre, t1.shapes, t1.dtypes, { isTrain: req.isTrain }), (r) => `${pre.nodes.length} → ${r.graph.nodes.length} nodes`, (r) => dumpGraph(r.graph));
  // Forward nodes of the decomposed graph: those standing for a forward node.
  const forwardOrigins = new Set<Node>();
  for (const [n, o] of d.origin) if (req.forwardNodes.has(o)) forwardOrigins.add(n);
  // Aux writes of forward nodes in training (a mirror copy recomputes, it does not update again).
  const auxWrites = d.auxWrites.flatMap((w, k) => (req.isTrain && req.forwardNodes.has(w.from) ? [{ ...w, output: req.destinations.length + k }] : []));
  graph = pm.userPasses("after", "decompose", d.graph);
  graph = pm.userPasses("before", "inferShape", graph);
  const known = new Map(req.shapes);
  const knownTypes = new Map(req.dtypes);
  if (d.seed) {
    known.set(RANDOM_SEED_NAME, [1]);
    knownTypes.set(RANDOM_SEED_NAME, "int64");
  }
  let { shapes, dtypes } = pm.run("inferShape", () => ({ shapes: inferShapes(graph, known), dtypes: inferTypes(graph, knownTypes) }));
  if (pm.hasUserPasses("after", "inferShape")) {
    graph = pm.userPasses("after", "inferShape", graph);
    ({ shapes, dtypes } = pm.run("inferShape (again)", () => ({ shapes: inferShapes(graph, known), dtypes: inferTypes(graph, knownTypes) })));
  }
  const g = graph;
  const types = (e: number): TensorType => {
    const s = shapes[e];
    if (!s) throw new KilnError(`the shape of entry ${e} is unknown after inference`);
    return { shape: s, dtype: dtypes[e] ?? "float32" };
  };
  const nodeOf: number[] = [];
  g.nodes.forEach((_, nid) => g.outputEntryIds(nid).forEach((e) => (nodeOf[e] = nid)));
  const entryName = (e: number): string => g.nodes[nodeOf[e]].outputName(e - g.rowPtr[nodeOf[e]]);

  // Phase 0 (forward) or 1 (backward) per node: by origin, else (nodes a user pass made) backward iff it reads backward.
  const phaseOfNode = new Map<Node, number>();
  for (const n of g.nodes) {
    if (!req.isTrain || n.isVariable) phaseOfNode.set(n, 0);
    else if (d.origin.has(n)) phaseOfNode.set(n, forwardOrigins.has(n) ? 0 : 1);
    else phaseOfNode.set(n, n.inputs.some((e) => phaseOfNode.get(e.node) === 1) ? 1 : 0);
  }
  const phase = (e: number): number => phaseOfNode.get(g.nodes[nodeOf[e]])!;

  // Destinations: an op entry with exactly one destination (not an aux state) is written there by its kernel.
  const outEntries = g.outputs.slice(0, req.destinations.length).map((e) => g.entryId(e));
  const destsOf = new Map<number, Destination[]>();
  outEntries.forEach((e, i) => destsOf.set(e, [...(destsOf.get(e) ?? []), req.destinations[i]]));
  const auxEntries = auxWrites.map((w) => g.entryId(g.outputs[w.output]));
  const isVar = (e: number): boolean => g.nodes[nodeOf[e]].isVariable;
  const primary = new Map<number, Destination>();
  for (const [e, ds] of destsOf) {
    const dst = ds[0];
    if (ds.length === 1 && !isVar(e) && !(dst.kind === "grad" && phase(e) === 0)) primary.set(e, dst);
  }
  const copies: { from: number; dest: Destination; phase: number }[] = [];
  outEntries.forEach((e, i) => {
    if (primary.get(e) !== req.destinations[i]) copies.push({ from: e, dest: req.destinations[i], phase: req.destinations[i].kind === "grad" ? 1 : 0 });
  });
  auxWrites.forEach((w, k) => {
    const role = req.variables.get(w.variable.name);
    if (!role || role.kind !== "aux") throw new KilnError(`aux write of ${w.from.name} targets ${w.variable.name}, which is not a bound aux state`);
    copies.push({ from: auxEntries[k], dest: { kind: "aux", index: role.index }, phase: 0 });
  });
  const roots = [...new Set([...primary.keys(), ...copies.map((c) => c.from)])];

  const stages = pm.run("stages", () => neededEntries(g, shapes, dtypes, roots), (r) => `${r.size} computed entries`);
  // A gradient added into its array cannot also be read from there by another kernel: it gets a copy.
  const readers = new Set<number>();
  for (const st of stages.values()) for (const slot of st.reads) readers.add(st.inputs[slot]);
  for (const [e, dst] of [...primary]) {
    if (dst.kind === "grad" && dst.accumulate && readers.has(e)) {
      primary.delete(e);
      copies.push({ from: e, dest: dst, phase: 1 });
    }
  }
  const plan = pm.run(
    "fuse",
    () => fuse(stages, { fuse: fuseOn, roots: new Set(roots), phase, types, log: (l) => pm.dump(2, () => l) }),
    (r) => `${stages.size} entries → ${r.groups.length} groups (${r.recomputed.size} recomputed)`,
    (r) => r.groups.map((grp) => `  ${entryName(grp.root)} <- [${grp.members.map((m) => stages.get(m)!.op).join(", ")}]`).join("\n"),
  );
  const accumulate = new Set([...primary].filter(([, dst]) => dst.kind === "grad" && dst.accumulate).map(([e]) => e));
  const lowered = pm.run(
    "lower",
    () => lower(stages, plan, { types, accumulate }),
    (r) => `${r.length} kernels`,
    (r) => r.map((k) => `  ${k.kernel.name}: ${k.kernel.stage.inputs.length} inputs -> ${entryName(k.output)}`).join("\n"),
  );

  // Schedule: forward kernels, forward copies (outputs, aux updates), backward kernels, backward copies.
  const copyKernel = (c: (typeof copies)[number]): ScheduledKernel => {
    // Destinations share the entry's shape and dtype (the executor checks bound arrays against them).
    const from = types(c.from);
    const vars = indexVars(from.shape.length);
    const stage = { inputs: [from], out: from, vars: vars.map((x) => x.name), body: { kind: "map" as const, value: load(0, vars) } };
    return { kernel: makeKernel(stage, ["_copy"], c.dest.kind === "grad" && c.dest.accumulate), inputs: [c.from], output: -1 - copies.indexOf(c), members: [] };
  };
  const byPhase = (p: number): ScheduledKernel[] => [
    ...lowered.filter((k) => phase(k.output) === p),
    ...copies.filter((c) => c.phase === p).map(copyKernel),
  ];
  const schedule = [...byPhase(0), ...byPhase(1)];
  const forwardCount = byPhase(0).length;

  const isExternal = (e: number): boolean => e < 0 || isVar(e) || primary.has(e);
  const memPlan = pm.run(
    "planMemory",
    () =>
      planMemory({
        schedule: schedule.filter((k) => k.output < 0 || bytesOf(types(k.output)) > 0),
        isExternal,
        bytes: (e) => bytesOf(types(e)),
        dtype: (e) => types(e).dtype,
        keepAlive: new Set(),
        inplace: req.inplace ?? true,
      }),
    (r) => `${r.storage.length} storage ids, ${r.arenaBytes} B arena, ${r.inplaceCount} in place`,
  );

  const refOf = (e: number): BufferRef => {
    if (e < 0) return { kind: "dest", dest: copies[-1 - e].dest };
    if (isVar(e)) {
      const name = g.nodes[nodeOf[e]].name;
      const role = name === RANDOM_SEED_NAME ? ({ kind: "seed" } as const) : req.variables.get(name);
      if (!role) throw new KilnError(`variable ${name} has no bound array`);
      return { kind: "var", role };
    }
    const dst = primary.get(e);
    if (dst) return { kind: "dest", dest: dst };
    const sid = memPlan.entryStorage.get(e);
    if (sid === undefined) throw new Error(`planMemory gave entry ${entryName(e)} no storage`);
    return { kind: "pool", storage: sid, offset: memPlan.storage[sid].offset, bytes: bytesOf(types(e)) };
  };
  const steps: ProgramStep[] = schedule.map((k, i) => ({
    kernel: k.kernel,
    inputs: k.inputs.map(refOf),
    output: refOf(k.output),
    inputTypes: k.inputs.map(types),
    outputType: k.output < 0 ? types(k.inputs[0]) : types(k.output),
    phase: i < forwardCount ? 0 : 1,
    outputName: k.output < 0 ? `${entryName(k.inputs[0])} → ${describeDest(copies[-1 - k.output].dest)}` : entryName(k.output),
    nodes: k.members.map((m) => g.nodes[nodeOf[m]].name),
  }));

  const unique = new Map<string, Kernel>();
  for (const s of steps) unique.set(s.kernel.name, s.kernel);
  const boundOutputBytes = [...primary.keys()].reduce((a, e) => a + bytesOf(types(e)), 0);
  const memory: MemoryReport = {
    naiveBytes,
    plannedBytes: memPlan.arenaBytes + boundOutputBytes,
    arenaBytes: memPlan.arenaBytes,
    boundOutputBytes,
    storageIds: memPlan.storage.length,
    inplace: memPlan.inplaceCount,
    kernels: steps.length,
    mirrored: mirrorCount,
  };
  const usedVars = new Set<string>();
  for (const s of steps) for (const r of s.inputs) if (r.kind === "var") usedVars.add(r.role.kind === "seed" ? RANDOM_SEED_NAME : roleName(r.role));
  const program: Program = {
    label: req.label,
    steps,
    kernels: [...unique.values()],
    forwardSteps: forwardCount,
    memory,
    timings: pm.timings as PassTiming[],
    usesSeed: steps.some((s) => s.inputs.some((r) => r.kind === "var" && r.role.kind === "seed")),
    headsUsed: [...usedVars].filter((n) => n.startsWith("head:")).map((n) => Number(n.slice(5))),
    debugStr: () => describeProgram(program),
  };
  pm.dump(1, () => `kiln: [${req.label}] ${steps.length} kernels (${program.kernels.length} distinct), arena ${memPlan.arenaBytes} B, naive ${naiveBytes} B`);
  return program;
}

function roleName(r: VariableRole): string {
  return r.kind === "seed" ? RANDOM_SEED_NAME : `${r.kind}:${r.index}`;
}

function describeDest(d: Destination): string {
  return d.kind === "grad" ? `grad[${d.index}]${d.accumulate ? " (add)" : ""}` : `${d.kind}[${d.index}]`;
}
