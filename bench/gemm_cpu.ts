/**
 * The C++ GEMM schedule against the plain reduction schedule (one serial loop per output) on
 * the kernels FullyConnected and Convolution lower to: a 512x512x512 dense layer, ResNet-style
 * 3x3 convolutions (forward with bias + relu fused, data and weight gradients), batch_dot.
 * Both renderings of each kernel are compiled, run on the same random inputs (outputs
 * compared), and timed; prints a table and writes bench/results/gemm_cpu-<device>-<date>.json.
 *
 *   node dist/bench/gemm_cpu.js [--repeats 7]
 *
 * FLOP counts are 2·B·M·N·K of the GEMM view (padding positions included for convolutions).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Shape } from "../compiler/base/shape.js";
import { renderModule } from "../compiler/codegen/index.js";
import { findContraction } from "../compiler/codegen/contraction.js";
import { prepare } from "../compiler/codegen/prepare.js";
import { CPP } from "../compiler/codegen/targets.js";
import type { Kernel } from "../compiler/ir/kernel.js";
import { cpuKernels } from "../runtime/cpu/index.js";
import { findPackageRoot } from "../runtime/native/loader.js";
import { opKernels } from "../test/codegen/op_kernels.js";

const root = findPackageRoot(dirname(fileURLToPath(import.meta.url))) ?? process.cwd();
const argAt = (flag: string, dflt: number): number => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const REPEATS = argAt("--repeats", 7);

interface Case {
  name: string;
  kernel: Kernel;
}

function cases(): Case[] {
  const out: Case[] = [];
  const add = (name: string, op: string, attrs: Record<string, string>, shapes: Shape[], which: number[], relu = false): void => {
    const ks = opKernels(op, attrs, shapes, { name: name.replace(/\W/g, "_"), relu });
    for (const i of which) out.push({ name: which.length > 1 ? `${name} [${["data", "weight"][i]} grad]` : name, kernel: ks[i] });
  };
  add("FullyConnected 512x512, 512 hidden, +bias", "FullyConnected", { num_hidden: "512" }, [[512, 512], [512, 512], [512]], [0]);
  const conv = { kernel: "(3,3)", num_filter: "64", pad: "(1,1)" };
  add("Conv 3x3 64->64 56x56 b1, +bias+relu", "Convolution", conv, [[1, 64, 56, 56], [64, 64, 3, 3], [64]], [0], true);
  add("Conv 3x3 64->64 56x56 b1", "_backward_Convolution", { ...conv, no_bias: "true" }, [[1, 64, 56, 56], [1, 64, 56, 56], [64, 64, 3, 3]], [0, 1]);
  add("Conv 3x3 128->128 28x28 b4, stride 1", "Convolution", { kernel: "(3,3)", num_filter: "128", pad: "(1,1)", no_bias: "true" }, [[4, 128, 28, 28], [128, 128, 3, 3]], [0]);
  add("batch_dot 8 x (128x64 . 64x128)", "batch_dot", {}, [[8, 128, 64], [8, 64, 128]], [0]);
  return out;
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
  const cxx = cpuKernels.compiler();
  if (!cxx.compiler) throw new Error(`gemm_cpu bench: ${cxx.error}`);
  const list = cases();
  const kernels = list.map((c) => c.kernel);
  const serialLib = cpuKernels.compile(renderModule(kernels, "cpp", { gemm: false }).source);
  const gemmLib = cpuKernels.compile(renderModule(kernels, "cpp").source);
  const threads = Number(process.env.OMP_NUM_THREADS) || cpus().length;
  console.log(`C++ GEMM schedule vs serial reduction (${cpus()[0]?.model ?? "cpu"}, ${threads} threads, ${cxx.compiler.command} ${cxx.compiler.flags.join(" ")}), median of ${REPEATS}\n`);

  let seed = 1;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
  const rows = [];
  for (const c of list) {
    const st = c.kernel.stage;
    const view = findContraction(prepare(c.kernel, CPP, false));
    if (!view) throw new Error(`${c.name}: not recognized as a contraction`);
    const flops = 2 * size(st.out.shape) * (st.body.kind === "reduce" ? size(st.body.axes.map((a) => a.extent)) : 1);
    const inputs = st.inputs.map((t) => Float32Array.from({ length: size(t.shape) }, rand));
    const params = [...inputs.map(() => "ptr" as const), "ptr" as const];
    const time = (lib: typeof gemmLib): { ms: number; out: Float32Array } => {
      const out = new Float32Array(size(st.out.shape));
      const fn = lib.getFunction(c.kernel.name, params);
      fn.call([...inputs, out]);
      const ts: number[] = [];
      for (let r = 0; r < REPEATS; r++) {
        const t0 = process.hrtime.bigint();
        fn.call([...inputs, out]);
        ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      return { ms: median(ts), out };
    };
    const serial = time(serialLib);
    const gemm = time(gemmLib);
    let diff = 0;
    for (let i = 0; i < serial.out.length; i++) diff = Math.max(diff, Math.abs(serial.out[i] - gemm.out[i]) / Math.max(1, Math.abs(serial.out[i])));
    rows.push({
      case: c.name,
      kernel: c.kernel.name,
      sizes: { B: view.B, M: view.M, N: view.N, K: view.K },
      gflop: +(flops / 1e9).toFixed(4),
      serialMsMedian: +serial.ms.toFixed(3),
      gemmMsMedian: +gemm.ms.toFixed(3),
      serialGflops: +(flops / serial.ms / 1e6).toFixed(2),
      gemmGflops: +(flops / gemm.ms / 1e6).toFixed(2),
      speedup: +(serial.ms / gemm.ms).toFixed(2),
      maxRelDiff: diff,
    });
  }

  const pad = (s: string | number, n: number): string => String(s).padStart(n);
  console.log(`${"case".padEnd(46)} ${pad("B", 3)} ${pad("M", 5)} ${pad("N", 6)} ${pad("K", 5)} ${pad("serial ms", 10)} ${pad("gemm ms", 9)} ${pad("serial GF/s", 11)} ${pad("gemm GF/s", 10)} ${pad("speedup", 8)} ${pad("max rel diff", 12)}`);
  for (const r of rows)
    console.log(
      `${r.case.padEnd(46)} ${pad(r.sizes.B, 3)} ${pad(r.sizes.M, 5)} ${pad(r.sizes.N, 6)} ${pad(r.sizes.K, 5)} ${pad(r.serialMsMedian.toFixed(2), 10)} ${pad(r.gemmMsMedian.toFixed(2), 9)} ${pad(r.serialGflops.toFixed(1), 11)} ${pad(r.gemmGflops.toFixed(1), 10)} ${pad(r.speedup.toFixed(2) + "x", 8)} ${pad(r.maxRelDiff.toExponential(1), 12)}`,
    );

  const date = new Date().toISOString().slice(0, 10);
  const model = (cpus()[0]?.model ?? "cpu").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  const device = `cpu-${model}-${threads}t`;
  const file = join(root, "bench", "results", `gemm_cpu-${device}-${date}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    JSON.stringify({ bench: "gemm_cpu", date, device, host: hostname(), cpu: cpus()[0]?.model, threads, compiler: cxx.compiler.version, flags: cxx.compiler.flags, repeats: REPEATS, rows }, null, 2) + "\n",
  );
  console.log(`\nwrote ${file}`);
}

/** `kiln bench gemm_cpu` (flags are read from process.argv). */
export async function run(): Promise<void> {
  main();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
