/**
 * The pass manager: runs the compiler's passes in order, times each, dumps what they made
 * when `KILN_DEBUG` asks (1: a summary line per pass, 2: the graph after each graph pass,
 * 3: kernel sources, 4: compile commands — printed by the runtime compilers), and runs the
 * user's own graph passes at the place they asked for.
 *
 * A user pass is a pure function Graph → Graph that keeps the graph's outputs (their number
 * and order; it may change how they are computed) and the names of its variables. It runs
 * before or after one of the graph passes: "mirror", "decompose", "inferShape" (after
 * "inferShape", shapes and types are inferred again on what it returns).
 */
import { Graph } from "../ir/graph.js";
import { KilnError } from "../base/errors.js";

/** The graph-level passes a user pass can be placed around, in pipeline order. */
export const GRAPH_PASSES = ["mirror", "decompose", "inferShape"] as const;
export type GraphPassName = (typeof GRAPH_PASSES)[number];

export interface UserPass {
  readonly name: string;
  /** Exactly one of before/after: the built-in pass it runs next to. */
  readonly before?: GraphPassName;
  readonly after?: GraphPassName;
  run(graph: Graph): Graph;
}

const registered: UserPass[] = [];

/** Adds a pass to every compilation from now on (executors, compileSymbol). */
export function registerPass(pass: UserPass): void {
  checkPass(pass);
  if (registered.some((p) => p.name === pass.name)) throw new KilnError(`a pass named "${pass.name}" is already registered`);
  registered.push(pass);
}

/** Removes a registered pass; returns whether there was one. */
export function unregisterPass(name: string): boolean {
  const i = registered.findIndex((p) => p.name === name);
  if (i >= 0) registered.splice(i, 1);
  return i >= 0;
}

export function registeredPasses(): readonly UserPass[] {
  return [...registered];
}

function checkPass(pass: UserPass): void {
  const anchors = [pass.before, pass.after].filter((x) => x !== undefined);
  if (anchors.length !== 1) throw new KilnError(`pass ${pass.name}: give exactly one of before/after`);
  if (!(GRAPH_PASSES as readonly string[]).includes(anchors[0]!))
    throw new KilnError(`pass ${pass.name}: "${anchors[0]}" is not a graph pass (one of ${GRAPH_PASSES.join(", ")})`);
}

/** The KILN_DEBUG level (0 when unset). */
export function debugLevel(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.KILN_DEBUG ?? 0);
  return Number.isFinite(n) ? n : 0;
}

export interface PassTiming {
  readonly name: string;
  readonly ms: number;
  readonly summary: string;
}

/** Runs and times passes of one compilation; logs to stderr by KILN_DEBUG. */
export class PassManager {
  readonly timings: PassTiming[] = [];
  private readonly user: readonly UserPass[];

  constructor(
    readonly label: string,
    extra: readonly UserPass[] = [],
    readonly debug = debugLevel(),
    private readonly log: (line: string) => void = (l) => process.stderr.write(l + "\n"),
  ) {
    extra.forEach(checkPass);
    this.user = [...registered, ...extra];
  }

  /** Runs `fn` as pass `name`; `summary` describes its result (level 1), `dump` prints it (level 2). */
  run<T>(name: string, fn: () => T, summary?: (r: T) => string, dump?: (r: T) => string): T {
    const t0 = performance.now();
    const r = fn();
    const ms = performance.now() - t0;
    const s = summary ? summary(r) : "";
    this.timings.push({ name, ms, summary: s });
    if (this.debug >= 1) this.log(`kiln: [${this.label}] ${name} ${ms.toFixed(2)} ms${s ? ": " + s : ""}`);
    if (this.debug >= 2 && dump) this.log(dump(r));
    return r;
  }

  /** Runs the user passes placed before or after the built-in pass `anchor` on `graph`. */
  userPasses(where: "before" | "after", anchor: GraphPassName, graph: Graph): Graph {
    let g = graph;
    for (const p of this.user) {
      if ((where === "before" ? p.before : p.after) !== anchor) continue;
      const before = g;
      g = this.run(`${p.name} (user, ${where} ${anchor})`, () => p.run(before), (r) => `${r.nodes.length} nodes`, dumpGraph);
      if (g.outputs.length !== before.outputs.length)
        throw new KilnError(`pass ${p.name} returned a graph with ${g.outputs.length} outputs, it was given ${before.outputs.length}`);
    }
    return g;
  }

  /** Whether some user pass runs at this place. */
  hasUserPasses(where: "before" | "after", anchor: GraphPassName): boolean {
    return this.user.some((p) => (where === "before" ? p.before : p.after) === anchor);
  }

  /** Logs text at a level (sources at 3). */
  dump(level: number, text: () => string): void {
    if (this.debug >= level) this.log(text());
  }

  totalMs(): number {
    return this.timings.reduce((a, t) => a + t.ms, 0);
  }
}

/** One line per node: id, op, name, inputs (node:output). */
export function dumpGraph(g: Graph): string {
  const lines = g.nodes.map((n, i) => {
    if (n.isVariable) return `  %${i} = var ${n.name}`;
    const ins = n.inputs.map((e) => `%${g.nodeId(e.node)}${e.index ? ":" + e.index : ""}`).join(", ");
    return `  %${i} = ${n.op!.name}(${ins}) ${n.name}`;
  });
  return lines.join("\n");
}
