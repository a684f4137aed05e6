/**
 * The schedule's text form (`schedule.txt` of an exported model): one record per line,
 * whitespace-separated tokens, `#` comments; the C runtime parses it with a few lines of
 * code and the TypeScript loader with parseSchedule.
 *
 * ```
 * kiln-schedule 1
 * target cpu|cuda
 * source_hash <16 hex: SHA-256 of the kernels source>
 * arena <bytes>
 * inputs <n>        then n lines: input <name> <dtype> <ndim> <dims...>
 * outputs <n>       then n lines: output <name> <dtype> <ndim> <dims...>
 * weights <n>       then n lines: weight <name> <dtype> <ndim> <dims...>   (looked up in weights.bin by name)
 * kernels <n>       then n lines: kernel <name> <params> <zero 0|1> <grid x y z> <block x y z> <shared bytes>
 * steps <n>         then n lines: step <kernel index> <output bytes> <nargs> <ref...>
 * end
 * ```
 * A ref is `a<offset>` (arena byte offset), `i<k>` (input k), `w<k>` (weight k) or `o<k>`
 * (output k); a step's refs are its kernel's inputs, then its output. Launch shapes are zeros
 * for the cpu target. Steps run in order; a step with 0 output bytes is skipped; a kernel
 * with zero=1 has its output zero-filled first.
 */
import { readFileSync } from "node:fs";
import { isDType } from "../../compiler/base/dtype.js";
import { KilnError } from "../../compiler/base/errors.js";
import type { ExportSchedule, ScheduleKernel, ScheduleRef, ScheduleStep, TensorSpec } from "./schedule.js";

export const SCHEDULE_VERSION = 1;

const tensorLine = (kind: string, t: TensorSpec): string => `${kind} ${t.name} ${t.dtype} ${t.shape.length}${t.shape.map((d) => ` ${d}`).join("")}`;

function refToken(r: ScheduleRef): string {
  return r.kind === "arena" ? `a${r.offset}` : `${r.kind[0]}${r.index}`;
}

/** The text of `s`; `label` names the model in the header comment. */
export function formatSchedule(s: ExportSchedule, label: string): string {
  const lines = [
    `# Kiln model schedule: the inference program of ${label.replace(/\n/g, " ")} for the ${s.target} target.`,
    "# Refs: a<offset> arena byte offset, i<k> input k, w<k> weight k, o<k> output k (a step's inputs, then its output).",
    `kiln-schedule ${SCHEDULE_VERSION}`,
    `target ${s.target}`,
    `source_hash ${s.sourceHash}`,
    `arena ${s.arenaBytes}`,
    `inputs ${s.inputs.length}`,
    ...s.inputs.map((t) => tensorLine("input", t)),
    `outputs ${s.outputs.length}`,
    ...s.outputs.map((t) => tensorLine("output", t)),
    `weights ${s.weights.length}`,
    ...s.weights.map((t) => tensorLine("weight", t)),
    `kernels ${s.kernels.length}`,
    ...s.kernels.map((k) => {
      const l = k.launch ?? { grid: [0, 0, 0], block: [0, 0, 0], sharedBytes: 0 };
      return `kernel ${k.name} ${k.params} ${k.zero ? 1 : 0} ${l.grid.join(" ")} ${l.block.join(" ")} ${l.sharedBytes}`;
    }),
    `steps ${s.steps.length}`,
  ];
  s.steps.forEach((st, i) => {
    lines.push(`# [${i}] ${s.kernels[st.kernel].ops.join(", ")} -> ${st.outputName} ${st.outputType}`);
    lines.push(`step ${st.kernel} ${st.outBytes} ${st.args.length} ${st.args.map(refToken).join(" ")}`);
  });
  lines.push("end", "");
  return lines.join("\n");
}

/** Parses a schedule's text; errors name the file and line. */
export function parseSchedule(text: string, where = "schedule.txt"): ExportSchedule {
  const s: Partial<ExportSchedule> & { inputs: TensorSpec[]; outputs: TensorSpec[]; weights: TensorSpec[]; kernels: ScheduleKernel[]; steps: ScheduleStep[] } = {
    inputs: [],
    outputs: [],
    weights: [],
    kernels: [],
    steps: [],
  };
  const counts = new Map<string, number>();
  let version: number | undefined;
  let ended = false;
  const rows = text.split("\n");
  for (let ln = 0; ln < rows.length; ln++) {
    const line = rows[ln].trim();
    if (line === "" || line.startsWith("#")) continue;
    const t = line.split(/\s+/);
    const fail = (what: string): never => {
      throw new KilnError(`${where}:${ln + 1}: ${what}: ${line}`);
    };
    const int = (i: number): number => {
      const v = Number(t[i]);
      if (t[i] === undefined || !Number.isSafeInteger(v) || v < 0) fail(`token ${i + 1} must be a non-negative integer`);
      return v;
    };
    if (ended) fail("text after `end`");
    if (version === undefined && t[0] !== "kiln-schedule") fail("not a Kiln schedule (the first record must be `kiln-schedule 1`)");
    const list = (kind: string): unknown[] => {
      const n = counts.get(`${kind}s`);
      const arr = (s as unknown as Record<string, unknown[]>)[`${kind}s`];
      if (n === undefined) fail(`\`${kind}\` before \`${kind}s <count>\``);
      if (arr.length >= n!) fail(`more ${kind} records than the ${n} announced`);
      return arr;
    };
    const tensor = (): TensorSpec => {
      const ndim = int(3);
      if (!isDType(t[2])) fail(`unknown dtype ${t[2]}`);
      if (t.length !== 4 + ndim) fail(`expected ${ndim} dims`);
      return { name: t[1], dtype: t[2] as TensorSpec["dtype"], shape: Array.from({ length: ndim }, (_, d) => int(4 + d)) };
    };
    switch (t[0]) {
      case "kiln-schedule":
        version = int(1);
        if (version !== SCHEDULE_VERSION) fail(`unsupported version ${version} (this reader knows ${SCHEDULE_VERSION})`);
        break;
      case "target":
        if (t[1] !== "cpu" && t[1] !== "cuda") fail("target must be cpu or cuda");
        s.target = t[1] as ExportSchedule["target"];
        break;
      case "source_hash":
        s.sourceHash = t[1] ?? fail("missing hash");
        break;
      case "arena":
        s.arenaBytes = int(1);
        break;
      case "inputs":
      case "outputs":
      case "weights":
      case "kernels":
      case "steps":
        counts.set(t[0], int(1));
        break;
      case "input":
      case "output":
      case "weight":
        list(t[0]).push(tensor());
        break;
      case "kernel": {
        const arr = list("kernel");
        if (t.length !== 11) fail("expected: kernel <name> <params> <zero> <grid x y z> <block x y z> <shared>");
        const grid: [number, number, number] = [int(4), int(5), int(6)];
        const block: [number, number, number] = [int(7), int(8), int(9)];
        const launch = grid[0] > 0 ? { grid, block, sharedBytes: int(10) } : undefined;
        arr.push({ name: t[1], params: int(2), zero: int(3) === 1, launch, ops: [] } satisfies ScheduleKernel);
        break;
      }
      case "step": {
        const arr = list("step");
        const kernel = int(1);
        const nargs = int(3);
        if (kernel >= s.kernels.length) fail(`kernel index ${kernel} out of range (${s.kernels.length} kernels)`);
        if (nargs !== s.kernels[kernel].params) fail(`kernel ${s.kernels[kernel].name} takes ${s.kernels[kernel].params} arguments, not ${nargs}`);
        if (t.length !== 4 + nargs) fail(`expected ${nargs} refs`);
        const args = t.slice(4).map((tok): ScheduleRef => {
          const m = /^([aiwo])(\d+)$/.exec(tok);
          if (!m) return fail(`bad ref ${tok} (expected a<offset>, i<k>, w<k> or o<k>)`);
          const v = Number(m[2]);
          if (m[1] === "a") return { kind: "arena", offset: v };
          const kind = m[1] === "i" ? "input" : m[1] === "w" ? "weight" : "output";
          const n = (kind === "input" ? s.inputs : kind === "weight" ? s.weights : s.outputs).length;
          if (v >= n) fail(`ref ${tok}: there are ${n} ${kind}s`);
          return { kind, index: v };
        });
        arr.push({ kernel, outBytes: int(2), args, outputName: "", outputType: "" } satisfies ScheduleStep);
        break;
      }
      case "end":
        ended = true;
        break;
      default:
        fail(`unknown record ${t[0]}`);
    }
  }
  if (!ended) throw new KilnError(`${where}: no \`end\` record (the file is truncated)`);
  for (const k of ["inputs", "outputs", "weights", "kernels", "steps"] as const) {
    const n = counts.get(k);
    if (n === undefined || s[k].length !== n) throw new KilnError(`${where}: ${n === undefined ? `no \`${k}\` record` : `${s[k].length} ${k} listed, ${n} announced`}`);
  }
  if (!s.target || s.sourceHash === undefined || s.arenaBytes === undefined) throw new KilnError(`${where}: missing target, source_hash or arena`);
  return s as ExportSchedule;
}

export function readScheduleFile(path: string): ExportSchedule {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new KilnError(`cannot read the schedule ${path}: ${(err as Error).message}`);
  }
  return parseSchedule(text, path);
}
