/**
 * Memory planning and fusion on the shared model-zoo graphs, compiled without binding (no
 * device needed): ResNet-50 at batch 32 — planned/naive bytes for inference, training and
 * training with mirroring — and ResNet-18 inference's kernel count against its convolutions,
 * poolings and FC layers. Then every shared symbol file at its usual input: kernel launches
 * fused and unfused, and plannedBytes/naiveBytes, for inference and for training (forward +
 * backward, every argument's gradient written). Prints tables and writes
 * bench/results/memory_fusion-<device>-<date>.json.
 *
 *   node dist/bench/memory_fusion.js [--batch 32]
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { sym, Symbol } from "../index.js";
import { compileSymbol, CompiledSymbol } from "../runtime/executor/compile_symbol.js";
import { findPackageRoot } from "../runtime/native/loader.js";
import { USUAL_SHAPES } from "../test/executor/shared_model_cases.js";

const root = findPackageRoot(dirname(fileURLToPath(import.meta.url))) ?? process.cwd();
const modelsDir = process.env.KILN_SHARED_DATA ? join(process.env.KILN_SHARED_DATA, "mxnet-models") : join(root, "..", "shared", "data", "mxnet-models");
const load = (name: string): Symbol => sym.fromJSON(readFileSync(join(modelsDir, `${name}-symbol.json`), "utf8"));
const argAt = (flag: string, dflt: number): number => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const batch = argAt("--batch", 32);
const REPEATS = 3;

interface Row {
  model: string;
  mode: string;
  batch: number;
  fuse: boolean;
  mirror: boolean;
  kernels: number;
  naiveMiB: number;
  plannedMiB: number;
  arenaMiB: number;
  ratio: number;
  inplace: number;
  mirrored: number;
  compileMsMedian: number;
}

const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function measure(model: string, net: Symbol, mode: "inference" | "training", opts: { fuse?: boolean; mirror?: boolean; batch: number }): { row: Row; c: CompiledSymbol } {
  const times: number[] = [];
  let c: CompiledSymbol | undefined;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    c = compileSymbol(net, { shapes: { data: [opts.batch, 3, 224, 224] }, isTrain: mode === "training", fuse: opts.fuse, mirror: opts.mirror });
    times.push(performance.now() - t0);
  }
  const m = c!.memory;
  return {
    c: c!,
    row: {
      model,
      mode,
      batch: opts.batch,
      fuse: opts.fuse ?? true,
      mirror: opts.mirror ?? false,
      kernels: m.kernels,
      naiveMiB: mib(m.naiveBytes),
      plannedMiB: mib(m.plannedBytes),
      arenaMiB: mib(m.arenaBytes),
      ratio: Math.round((m.plannedBytes / m.naiveBytes) * 1000) / 1000,
      inplace: m.inplace,
      mirrored: m.mirrored,
      compileMsMedian: Math.round(median(times)),
    },
  };
}

/** Input shapes of each shared symbol file (the table the compile-only tests use). */
function usualShapes(model: string): Record<string, number[]> {
  const s = USUAL_SHAPES[model];
  if (!s) throw new Error(`memory_fusion: no usual input shape for ${model}-symbol.json; add it to test/executor/shared_model_cases.ts`);
  return s;
}

interface ModelRow {
  model: string;
  input: string;
  /** Kernel launches of the inference program, fused and unfused. */
  inferKernels: number;
  inferKernelsUnfused: number;
  inferNaiveBytes: number;
  inferPlannedBytes: number;
  inferRatio: number;
  trainKernels: number;
  trainKernelsUnfused: number;
  trainNaiveBytes: number;
  trainPlannedBytes: number;
  trainRatio: number;
}

/** Bytes with three significant digits in B, KiB, MiB or GiB. */
function human(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toPrecision(3)} ${units[u]}`;
}

/** One shared model at its usual size: fused and unfused programs for inference and training. */
function modelRow(model: string): ModelRow {
  const net = load(model);
  const shapes = usualShapes(model);
  const run = (isTrain: boolean, fuse: boolean): CompiledSymbol => compileSymbol(net, { shapes, isTrain, fuse });
  const [inf, infU, tr, trU] = [run(false, true), run(false, false), run(true, true), run(true, false)];
  const ratio = (c: CompiledSymbol): number => Math.round((c.memory.plannedBytes / c.memory.naiveBytes) * 1000) / 1000;
  const first = Object.values(shapes)[0];
  return {
    model,
    input: Object.keys(shapes).length > 1 ? `${Object.keys(shapes).length} inputs, batch ${first[0]}` : first.join("x"),
    inferKernels: inf.memory.kernels,
    inferKernelsUnfused: infU.memory.kernels,
    inferNaiveBytes: inf.memory.naiveBytes,
    inferPlannedBytes: inf.memory.plannedBytes,
    inferRatio: ratio(inf),
    trainKernels: tr.memory.kernels,
    trainKernelsUnfused: trU.memory.kernels,
    trainNaiveBytes: tr.memory.naiveBytes,
    trainPlannedBytes: tr.memory.plannedBytes,
    trainRatio: ratio(tr),
  };
}

function printTable(head: string[], rows: (string | number | boolean)[][]): void {
  const table = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, j) => Math.max(...table.map((row) => row[j].length)));
  for (const row of table) console.log(row.map((c, j) => c.padStart(widths[j])).join("  "));
}

function main(): void {
  const rows: Row[] = [];
  const r50 = load("resnet-50");
  rows.push(measure("resnet-50", r50, "inference", { batch }).row);
  rows.push(measure("resnet-50", r50, "training", { batch }).row);
  rows.push(measure("resnet-50", r50, "training", { batch, mirror: true }).row);
  rows.push(measure("resnet-50", r50, "training", { batch, fuse: false }).row);

  const r18 = load("resnet-18");
  const counts = { Convolution: 0, Pooling: 0, FullyConnected: 0 };
  for (const n of r18.graph().nodes) if (n.op && n.op.name in counts) counts[n.op.name as keyof typeof counts]++;
  const budget = counts.Convolution + counts.Pooling + counts.FullyConnected;
  const fused = measure("resnet-18", r18, "inference", { batch: 1 });
  rows.push(fused.row);
  rows.push(measure("resnet-18", r18, "inference", { batch: 1, fuse: false }).row);
  const extra = fused.c.kernels.filter((k) => !k.ops.some((o) => o in counts)).map((k) => k.ops.join("+"));

  console.log(`Memory planning and fusion, compiled without binding (${cpus()[0]?.model ?? "cpu"})\n`);
  printTable(
    ["model", "mode", "batch", "fuse", "mirror", "kernels", "naive MiB", "planned MiB", "arena MiB", "planned/naive", "in place", "mirrored", "compile ms"],
    rows.map((r) => [r.model, r.mode, r.batch, r.fuse, r.mirror, r.kernels, r.naiveMiB, r.plannedMiB, r.arenaMiB, r.ratio, r.inplace, r.mirrored, r.compileMsMedian]),
  );
  console.log(
    `\nResNet-18 inference: ${fused.row.kernels} kernels for ${counts.Convolution} convolutions + ${counts.Pooling} poolings + ${counts.FullyConnected} FC = ${budget};` +
      ` ${extra.length} others: ${[...new Set(extra)].map((e) => `${e} ×${extra.filter((x) => x === e).length}`).join(", ")}`,
  );
  const checks = {
    resnet50TrainingRatioAtMostHalf: rows[1].ratio <= 0.5,
    resnet50InferenceRatioAtMostQuarter: rows[0].ratio <= 0.25,
    mirroringLowersTraining: rows[2].plannedMiB < rows[1].plannedMiB,
  };
  console.log(checks);

  const files = readdirSync(modelsDir)
    .filter((f) => f.endsWith("-symbol.json"))
    .map((f) => f.replace(/-symbol\.json$/, ""))
    .sort();
  const models = files.map(modelRow);
  console.log(
    "\nEvery shared model at its usual input: kernel launches fused / unfused, and planned vs naive bytes (fused)." +
      "\nThe arena's 256-byte alignment makes tiny graphs plan more than naive.\n",
  );
  printTable(
    ["model", "input", "infer kernels", "unfused", "naive", "planned", "planned/naive", "train kernels", "unfused", "naive", "planned", "planned/naive"],
    models.map((m) => [
      m.model,
      m.input,
      m.inferKernels,
      m.inferKernelsUnfused,
      human(m.inferNaiveBytes),
      human(m.inferPlannedBytes),
      m.inferRatio,
      m.trainKernels,
      m.trainKernelsUnfused,
      human(m.trainNaiveBytes),
      human(m.trainPlannedBytes),
      m.trainRatio,
    ]),
  );

  const date = new Date().toISOString().slice(0, 10);
  const device = "cpu-compile-only";
  const out = join(root, "bench", "results", `memory_fusion-${device}-${date}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      { bench: "memory_fusion", date, device, host: hostname(), cpu: cpus()[0]?.model, repeats: REPEATS, rows, resnet18: { kernels: fused.row.kernels, ...counts, budget, extra }, checks, models },
      null,
      2,
    ) + "\n",
  );
  console.log(`\nwrote ${out}`);
}

/** `kiln bench memory_fusion` (flags are read from process.argv). */
export async function run(): Promise<void> {
  main();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
