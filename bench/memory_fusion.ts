/**
 * Memory planning and fusion on the shared model-zoo graphs, compiled without binding (no
 * device needed): ResNet-50 at batch 32 — planned/naive bytes for inference, training and
 * training with mirroring — and ResNet-18 inference's kernel count against its convolutions,
 * poolings and FC layers. Prints a table and writes bench/results/memory_fusion-<device>-<date>.json.
 *
 *   node dist/bench/memory_fusion.js [--batch 32]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sym, Symbol } from "../index.js";
import { compileSymbol, CompiledSymbol } from "../runtime/executor/compile_symbol.js";
import { findPackageRoot } from "../runtime/native/loader.js";

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
  const head = ["model", "mode", "batch", "fuse", "mirror", "kernels", "naive MiB", "planned MiB", "arena MiB", "planned/naive", "in place", "mirrored", "compile ms"];
  const table = [head, ...rows.map((r) => [r.model, r.mode, r.batch, r.fuse, r.mirror, r.kernels, r.naiveMiB, r.plannedMiB, r.arenaMiB, r.ratio, r.inplace, r.mirrored, r.compileMsMedian].map(String))];
  const widths = head.map((_, j) => Math.max(...table.map((row) => row[j].length)));
  for (const row of table) console.log(row.map((c, j) => c.padStart(widths[j])).join("  "));
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

  const date = new Date().toISOString().slice(0, 10);
  const device = "cpu-compile-only";
  const out = join(root, "bench", "results", `memory_fusion-${device}-${date}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      { bench: "memory_fusion", date, device, host: hostname(), cpu: cpus()[0]?.model, repeats: REPEATS, rows, resnet18: { kernels: fused.row.kernels, ...counts, budget, extra }, checks },
      null,
      2,
    ) + "\n",
  );
  console.log(`\nwrote ${out}`);
}

main();
