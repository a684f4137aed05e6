/**
 * Training memory: ResNet-50, ResNet-18 (the shared model-zoo symbols: 63 and 1000 classes;
 * batch 32, 3x224x224) and MXNet's example MLP
 * (784-128-64-10, batch 32), each with and without mirroring (recomputing cheap forward nodes in
 * backward, `compile: { mirror: true }`).
 *
 * - Planned (every machine, no device needed): Kiln's memory plan of the training program
 *   (compileSymbol(..).memory): the arena plus outputs written into bound arrays (plannedBytes)
 *   against one buffer per op output (naiveBytes), and the bound arrays the plan does not
 *   cover (arguments, gradients, aux states).
 * - Measured (with a GPU): first the kernel cache is filled by one child process per case, in
 *   parallel (NVRTC of ResNet-50's training module alone takes ~20 s); then, in this process,
 *   the caching allocator's peak (cudaDevice(0).allocator, peak reset
 *   before binding) over bind + one forward + backward, against PyTorch's
 *   torch.cuda.max_memory_allocated for the same training step (bench/peers/memory.py), with
 *   and without torch.utils.checkpoint on the ResNet stages / MLP blocks. The step's time is
 *   recorded too (medians; few repeats: this program is about bytes).
 * - Without a GPU: the CUDA kernels are compile-checked with nvcc (ptxas registers/spills), and
 *   the MLP's step runs on cpu() (clearly labelled).
 *
 * Gradients are requested for the parameters only (not for data and label), as in training and
 * as PyTorch does. Data and label are counted in the argument bytes (PyTorch's peak holds them too).
 *
 *   node dist/bench/memory.js [--quick] [--no-peers] [--repeats N] [--out DIR]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { sym, cpu, gpu, Symbol } from "../index.js";
import type { Executor, GradReq } from "../index.js";
import type { MemoryReport } from "../compiler/passes/program.js";
import { compileSymbol } from "../runtime/executor/compile_symbol.js";
import { cudaDevice } from "../runtime/cuda/device.js";
import { defaultKernelCache } from "../runtime/cache/kernel_cache.js";
import {
  BenchDevice,
  BenchFlags,
  ROOT,
  PtxasKernel,
  Stats,
  benchDevice,
  compileCheckCuda,
  copyBandwidth,
  findNvcc,
  noGpuNotice,
  parseFlags,
  printTable,
  randomArray,
  runPeer,
  timeRuns,
  writeResult,
} from "./harness.js";

const SELF = fileURLToPath(import.meta.url);
const MODELS_DIR = join(process.env.KILN_SHARED_DATA ?? join(ROOT, "..", "shared", "data"), "mxnet-models");
const BATCH = 32;
const MiB = 2 ** 20;
const mib = (b: number): number => Math.round((b / MiB) * 100) / 100;
/** Seconds a GPU run may spend before optional work (ptxas reports) is skipped. */
const GPU_SOFT_BUDGET_S = 55;

export type ModelName = "resnet-50" | "resnet-18" | "mlp";

export interface ModelSpec {
  model: ModelName;
  batch: number;
  /** Input shapes for binding (data; the label is inferred). */
  shapes: Record<string, number[]>;
  classes: number;
  net: Symbol;
}

/** MXNet's example MLP (example/image-classification/symbols/mlp.py): 784-128-64-10, SoftmaxOutput. */
export function mlpSymbol(): Symbol {
  let x = sym.Variable("data");
  x = sym.FullyConnected({ data: x, num_hidden: 128, name: "fc1" });
  x = sym.Activation({ data: x, act_type: "relu", name: "relu1" });
  x = sym.FullyConnected({ data: x, num_hidden: 64, name: "fc2" });
  x = sym.Activation({ data: x, act_type: "relu", name: "relu2" });
  x = sym.FullyConnected({ data: x, num_hidden: 10, name: "fc3" });
  return sym.SoftmaxOutput({ data: x, name: "softmax" });
}

/** A shared model-zoo symbol (../shared/data/mxnet-models/<name>-symbol.json). */
export function loadShared(name: string): Symbol {
  return sym.fromJSON(readFileSync(join(MODELS_DIR, `${name}-symbol.json`), "utf8"));
}

/** Classes of a classifier: the last axis of its (first) output, by shape inference. */
export function classesOf(net: Symbol, shapes: Record<string, number[]>): number {
  const out = net.inferShape(shapes)[1][0];
  return out[out.length - 1];
}

export function modelSpec(model: ModelName, batch = BATCH): ModelSpec {
  const net = model === "mlp" ? mlpSymbol() : loadShared(model);
  const shapes = model === "mlp" ? { data: [batch, 784] } : { data: [batch, 3, 224, 224] };
  // The shared ResNet-50 has 63 classes, ResNet-18 1000: read it off the graph.
  return { model, batch, shapes, classes: classesOf(net, shapes), net };
}

/** "write" for every parameter; data and label get no gradient. */
export function paramGradReq(net: Symbol): Record<string, GradReq> {
  return Object.fromEntries(net.listArguments().filter((n) => n !== "data" && !n.endsWith("_label")).map((n) => [n, "write" as GradReq]));
}

/** Bytes of each argument, aux state and requested gradient, from shape inference (float32). */
export function boundBytes(net: Symbol, shapes: Record<string, number[]>): { argBytes: number; gradBytes: number; auxBytes: number; outputBytes: number } {
  const [args, outs, aux] = net.inferShape(shapes);
  const size = (s: readonly number[] | undefined): number => (s ?? []).reduce((a, b) => a * b, 1) * 4;
  const req = paramGradReq(net);
  const names = net.listArguments();
  return {
    argBytes: args.reduce((a, s) => a + size(s), 0),
    gradBytes: args.reduce((a, s, i) => a + (req[names[i]] ? size(s) : 0), 0),
    auxBytes: aux.reduce((a, s) => a + size(s), 0),
    outputBytes: outs.reduce((a, s) => a + size(s), 0),
  };
}

/**
 * Random, never-zero values for every argument and aux state; returns what was written (the
 * host check of the MLP reads the parameters back from here).
 */
export function fillRandom(exe: Executor, classes: number, seed = 7): Map<string, Float32Array> {
  const written = new Map<string, Float32Array>();
  let k = seed;
  const put = (name: string, a: { size: number; set(v: ArrayLike<number>): unknown }, lo: number, hi: number): void => {
    const v = randomArray(a.size, ++k, lo, hi);
    a.set(v);
    written.set(name, v);
  };
  for (const [name, a] of Object.entries(exe.argDict)) {
    if (name.endsWith("_label")) {
      const v = Float32Array.from(randomArray(a.size, ++k, 0, classes), (x) => Math.min(classes - 1, Math.floor(x)));
      a.set(v);
      written.set(name, v);
    } else if (name === "data") put(name, a, -1, 1);
    else if (name.endsWith("_gamma")) put(name, a, 0.5, 1.5);
    else if (name.endsWith("_beta") || name.endsWith("_bias")) put(name, a, -0.1, 0.1);
    else put(name, a, -0.05, 0.05);
  }
  for (const [name, a] of Object.entries(exe.auxDict)) {
    if (name.endsWith("_var")) put(name, a, 0.5, 1.5);
    else put(name, a, -0.1, 0.1);
  }
  return written;
}

/** The MLP's softmax output computed on the host from the values written. */
function mlpHost(v: Map<string, Float32Array>, batch: number): Float64Array {
  const fc = (x: Float64Array, inDim: number, w: Float32Array, b: Float32Array, relu: boolean): Float64Array => {
    const outDim = b.length;
    const y = new Float64Array(batch * outDim);
    for (let n = 0; n < batch; n++)
      for (let o = 0; o < outDim; o++) {
        let s = b[o];
        for (let i = 0; i < inDim; i++) s += x[n * inDim + i] * w[o * inDim + i];
        y[n * outDim + o] = relu ? Math.max(0, s) : s;
      }
    return y;
  };
  let x: Float64Array = Float64Array.from(v.get("data")!);
  x = fc(x, 784, v.get("fc1_weight")!, v.get("fc1_bias")!, true);
  x = fc(x, 128, v.get("fc2_weight")!, v.get("fc2_bias")!, true);
  x = fc(x, 64, v.get("fc3_weight")!, v.get("fc3_bias")!, false);
  for (let n = 0; n < batch; n++) {
    const row = x.subarray(n * 10, n * 10 + 10);
    const m = Math.max(...row);
    let s = 0;
    for (let j = 0; j < 10; j++) s += (row[j] = Math.exp(row[j] - m));
    for (let j = 0; j < 10; j++) row[j] /= s;
  }
  return x;
}

/**
 * The cheap correctness check after the first forward + backward: for the MLP, the softmax
 * against the host's; for the ResNets, every probability row sums to 1 and a weight gradient
 * is finite and not all zero.
 */
function checkStep(spec: ModelSpec, exe: Executor, written: Map<string, Float32Array>): { ok: boolean; detail: string } {
  const probs = exe.outputs[0].toFloat64();
  if (!probs.every(Number.isFinite)) return { ok: false, detail: "non-finite output" };
  if (spec.model === "mlp") {
    const ref = mlpHost(written, spec.batch);
    let err = 0;
    for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(ref[i] - probs[i]));
    return { ok: err < 1e-4, detail: `max |softmax - host| = ${err.toExponential(2)}` };
  }
  let worst = 0;
  for (let n = 0; n < spec.batch; n++) {
    let s = 0;
    for (let j = 0; j < spec.classes; j++) s += probs[n * spec.classes + j];
    worst = Math.max(worst, Math.abs(s - 1));
  }
  const gname = Object.keys(exe.gradDict).filter((n) => n.endsWith("_weight")).pop();
  const g = gname ? exe.gradDict[gname].toFloat64() : new Float64Array();
  const gOk = g.length > 0 && g.every(Number.isFinite) && g.some((x) => x !== 0);
  return { ok: worst < 1e-3 && gOk, detail: `max |row sum - 1| = ${worst.toExponential(2)}; ${gname} grad ${gOk ? "finite, nonzero" : "BAD"}` };
}

function disposeExecutor(exe: Executor): void {
  (exe as { dispose?(): void }).dispose?.();
  for (const a of [...exe.argArrays, ...exe.gradArrays, ...exe.auxArrays, ...exe.outputs]) a?.dispose();
}

type KilnMemory = MemoryReport & { argBytes: number; gradBytes: number; auxBytes: number };

export interface PlanRow {
  model: ModelName;
  batch: number;
  mirror: boolean;
  kernels: number;
  mirrored: number;
  naiveBytes: number;
  plannedBytes: number;
  arenaBytes: number;
  boundOutputBytes: number;
  argBytes: number;
  gradBytes: number;
  auxBytes: number;
  outputBytes: number;
  /** plannedBytes / naiveBytes. */
  ratio: number;
  /** What the bound step needs with this plan: arena + arguments + gradients + aux + outputs. */
  totalPlannedBytes: number;
  compileMs: number;
}

export function planRow(spec: ModelSpec, mirror: boolean): PlanRow {
  const t0 = performance.now();
  const c = compileSymbol(spec.net, { shapes: spec.shapes, isTrain: true, mirror, gradReq: paramGradReq(spec.net) });
  const compileMs = performance.now() - t0;
  const m = c.memory;
  const b = boundBytes(spec.net, spec.shapes);
  return {
    model: spec.model,
    batch: spec.batch,
    mirror,
    kernels: m.kernels,
    mirrored: m.mirrored,
    naiveBytes: m.naiveBytes,
    plannedBytes: m.plannedBytes,
    arenaBytes: m.arenaBytes,
    boundOutputBytes: m.boundOutputBytes,
    ...b,
    ratio: Math.round((m.plannedBytes / m.naiveBytes) * 1000) / 1000,
    totalPlannedBytes: m.arenaBytes + b.argBytes + b.gradBytes + b.auxBytes + b.outputBytes,
    compileMs: Math.round(compileMs),
  };
}

interface Measured {
  /** Allocator peak over bind + first forward + backward, minus what was allocated before. */
  peakBytes: number;
  /** The same after the timed runs (CUDA graph capture and replays). */
  peakAfterTimingBytes: number;
  reservedBytes: number;
  driverAllocs: number;
  /** Wall time of the first forward + backward (compiles the program: NVRTC or cache). */
  firstStepMs: number;
  /** Where the kernel module came from in that step: the disk cache after the prewarm, else NVRTC (miss). */
  firstStepCache: "miss" | "disk" | "memory" | "none";
  step: Stats;
  exeMemory: KilnMemory;
  check: { ok: boolean; detail: string };
}

/** Bind, one training step, the allocator's peak; then timed steps. */
function measureGpu(dev: BenchDevice, spec: ModelSpec, mirror: boolean, flags: BenchFlags): Measured {
  const d = cudaDevice(dev.ctx.deviceId);
  d.synchronize();
  d.allocator.emptyCache();
  d.allocator.resetPeak();
  const base = d.allocator.stats.currentBytes;
  const exe = spec.net.simpleBind({ ctx: dev.ctx, shapes: spec.shapes, gradReq: paramGradReq(spec.net), compile: { mirror } });
  try {
    const written = fillRandom(exe, spec.classes);
    const c0 = { ...defaultKernelCache().stats };
    const t0 = performance.now();
    exe.forward(true);
    exe.backward();
    d.synchronize();
    const firstStepMs = performance.now() - t0;
    const c1 = defaultKernelCache().stats;
    const firstStepCache = c1.builds > c0.builds ? "miss" : c1.diskHits > c0.diskHits ? "disk" : c1.memoryHits > c0.memoryHits ? "memory" : "none";
    const after = d.allocator.stats;
    const check = checkStep(spec, exe, written);
    const step = timeRuns(dev, () => (exe.forward(true), exe.backward()), { repeats: Math.max(2, Math.min(flags.repeats, 5)), warmup: Math.max(3, flags.warmup) });
    const end = d.allocator.stats;
    return {
      peakBytes: after.peakBytes - base,
      peakAfterTimingBytes: end.peakBytes - base,
      reservedBytes: end.reservedBytes,
      driverAllocs: end.driverAllocs,
      firstStepMs,
      firstStepCache,
      step,
      exeMemory: (exe as unknown as { memory: KilnMemory }).memory,
      check,
    };
  } finally {
    disposeExecutor(exe);
    d.synchronize();
    d.allocator.emptyCache();
  }
}

/**
 * NVRTC runs single-threaded inside one process, and ResNet-50's training module alone takes
 * ~20 s on the H100 host: compiling the measured programs one after another would take over a
 * minute on an empty kernel cache. So each case is first bound and stepped once in its own child
 * process (`node <this file> --prewarm <json>`), all at once, filling the disk cache that the
 * measurements then read. Memory and time are measured in this process only.
 */
export async function prewarm(cases: { model: ModelName; mirror: boolean }[]): Promise<{ wallMs: number; failures: string[] }> {
  if (process.env.KILN_CACHE === "0") return { wallMs: 0, failures: ["KILN_CACHE=0: no disk cache to share, not prewarmed"] };
  const t0 = performance.now();
  const one = (c: { model: ModelName; mirror: boolean }): Promise<string | undefined> =>
    new Promise((resolve) => {
      const p = spawn(process.execPath, [SELF, "--prewarm", JSON.stringify(c)], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      p.stdout.on("data", (d: Buffer) => (out += d.toString()));
      p.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => p.kill("SIGKILL"), 240000);
      p.on("error", (e) => (clearTimeout(timer), resolve(`${c.model} mirror=${c.mirror}: ${e.message}`)));
      p.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve(code === 0 ? undefined : `${c.model} mirror=${c.mirror}: exit ${code ?? signal}: ${out.trim().split("\n").slice(-2).join(" | ")}`);
      });
    });
  const failures = (await Promise.all(cases.map(one))).filter((x): x is string => x !== undefined);
  return { wallMs: Math.round(performance.now() - t0), failures };
}

/** The prewarm child: bind one case on gpu(0) and run one training step (compiling its module through the cache). */
function prewarmChild(argv: string[]): void {
  const c = JSON.parse(argv[argv.indexOf("--prewarm") + 1]) as { model: ModelName; mirror: boolean };
  const spec = modelSpec(c.model);
  const exe = spec.net.simpleBind({ ctx: gpu(0), shapes: spec.shapes, gradReq: paramGradReq(spec.net), compile: { mirror: c.mirror } });
  exe.forward(true);
  exe.backward();
  cudaDevice(0).synchronize();
}

/** The MLP's training step on cpu() (the C++ path): time and the host check. */
function mlpOnCpu(dev: BenchDevice, flags: BenchFlags): { step: Stats; check: { ok: boolean; detail: string } } | { error: string } {
  try {
    const spec = modelSpec("mlp");
    const exe = spec.net.simpleBind({ ctx: cpu(), shapes: spec.shapes, gradReq: paramGradReq(spec.net) });
    const written = fillRandom(exe, spec.classes);
    exe.forward(true);
    exe.backward();
    const check = checkStep(spec, exe, written);
    const step = timeRuns(dev, () => (exe.forward(true), exe.backward()), { repeats: Math.max(3, flags.repeats), warmup: Math.max(1, flags.warmup) });
    return { step, check };
  } catch (e) {
    return { error: (e as Error).message.slice(0, 500) };
  }
}

interface CompileReport {
  model: ModelName;
  mirror: boolean;
  ok: boolean;
  ms: number;
  kernels: PtxasKernel[];
  maxRegisters: number;
  spillingKernels: number;
  error?: string;
}

function compileReport(spec: ModelSpec, mirror = false): CompileReport {
  const t0 = performance.now();
  const r = compileCheckCuda(spec.net, { shapes: spec.shapes, isTrain: true, mirror, gradReq: paramGradReq(spec.net) });
  return {
    model: spec.model,
    mirror,
    ok: r.ok,
    ms: Math.round(performance.now() - t0),
    kernels: r.kernels,
    maxRegisters: Math.max(0, ...r.kernels.map((k) => k.registers)),
    spillingKernels: r.kernels.filter((k) => k.spillBytes > 0).length,
    error: r.error,
  };
}

interface PeerRow {
  model: string;
  batch: number;
  checkpoint: boolean;
  peakBytes: number;
  steadyPeakBytes?: number;
  paramBytes?: number;
  gradBytes?: number;
  bufferBytes?: number;
  step?: Stats;
  impl?: string;
  error?: string;
}

export async function run(flags: BenchFlags): Promise<void> {
  const started = performance.now();
  const elapsedS = (): number => (performance.now() - started) / 1000;
  const dev = benchDevice();
  if (!dev.gpu) noGpuNotice("memory", dev);
  const models: ModelName[] = ["resnet-50", "resnet-18", "mlp"];
  const specs = models.map((m) => modelSpec(m));

  // Planned memory of every case (no device).
  const plans = specs.flatMap((s) => [planRow(s, false), planRow(s, true)]);
  console.log(`\nKiln's memory plan for training (forward + backward, parameter gradients), batch ${BATCH}, float32\n`);
  printTable(
    ["model", "mirror", "kernels", "mirrored", "naive MiB", "planned MiB", "planned/naive", "args MiB", "grads MiB", "aux MiB", "arena+bound MiB", "plan ms"],
    plans.map((p) => [p.model, String(p.mirror), String(p.kernels), String(p.mirrored), mib(p.naiveBytes), mib(p.plannedBytes), p.ratio, mib(p.argBytes), mib(p.gradBytes), mib(p.auxBytes), mib(p.totalPlannedBytes), p.compileMs]),
  );

  // Measured on the GPU, with PyTorch beside it.
  const measured = new Map<string, Measured | { error: string }>();
  const key = (m: string, mirror: boolean): string => `${m}/${mirror}`;
  let floor: Record<string, unknown>;
  let peer: ReturnType<typeof runPeer> = { ok: false, reason: "no GPU" };
  const reports: CompileReport[] = [];
  let cpuMlp: ReturnType<typeof mlpOnCpu> | undefined;
  const measuredModels = dev.gpu && flags.quick ? models.filter((m) => m !== "resnet-50") : models;

  let prewarmed: { wallMs: number; failures: string[] } | undefined;
  if (dev.gpu) {
    prewarmed = await prewarm(measuredModels.flatMap((model) => [false, true].map((mirror) => ({ model, mirror }))));
    console.log(`\nprewarmed the kernel cache in ${(prewarmed.wallMs / 1000).toFixed(1)} s (parallel child processes)${prewarmed.failures.length ? `; failures: ${prewarmed.failures.join("; ")}` : ""}`);
    const bw = copyBandwidth(dev, 1 << 26, { repeats: 10, warmup: 2 });
    floor = { copyGBps: bw.gbps, copyBytes: bw.bytes, note: "device-to-device copy, read + write; for reference (this program measures bytes)" };
    for (const s of specs) {
      if (!measuredModels.includes(s.model)) continue;
      for (const mirror of [false, true]) {
        try {
          measured.set(key(s.model, mirror), measureGpu(dev, s, mirror, flags));
        } catch (e) {
          measured.set(key(s.model, mirror), { error: (e as Error).message.slice(0, 500) });
        }
      }
    }
    peer = runPeer(
      "memory",
      {
        cases: specs.filter((s) => measuredModels.includes(s.model)).flatMap((s) => [false, true].map((checkpoint) => ({ model: s.model, batch: BATCH, classes: s.classes, checkpoint }))),
        timeRepeats: Math.max(2, Math.min(flags.repeats, 5)),
      },
      flags,
      180000,
    );
    // ptxas reports: the MLP always, the biggest program (ResNet-50 mirrored) while time allows.
    if (findNvcc()) {
      reports.push(compileReport(specs[2]));
      if (!flags.quick && elapsedS() < GPU_SOFT_BUDGET_S) reports.push(compileReport(specs[0], true));
    }
  } else {
    const bw = copyBandwidth(dev, 1 << 24, { repeats: 5, warmup: 1 });
    floor = { hostCopyGBps: bw.gbps, note: "host typed-array copy (no GPU): a rough figure only" };
    // Compile-check the CUDA kernels: the MLP always; the ResNets (nvcc takes 15-25 s each on 2 cores) in full runs.
    reports.push(compileReport(specs[2]));
    if (!flags.quick) reports.push(compileReport(specs[1]), compileReport(specs[0]));
    cpuMlp = mlpOnCpu(dev, flags);
  }

  const peerRows: PeerRow[] = peer.ok ? (peer.results as unknown as PeerRow[]) : [];
  const peerOf = (m: string, ck: boolean): PeerRow | undefined => peerRows.find((r) => r.model === m && r.checkpoint === ck);
  const cases = plans.map((p) => {
    const meas = measured.get(key(p.model, p.mirror));
    const pr = peerOf(p.model, p.mirror);
    const ok = meas && !("error" in meas) ? meas : undefined;
    return {
      model: p.model,
      batch: p.batch,
      input: specs.find((s) => s.model === p.model)!.shapes.data,
      classes: specs.find((s) => s.model === p.model)!.classes,
      mirror: p.mirror,
      plan: p,
      kiln: meas,
      peer: pr ? { ...pr, against: p.mirror ? "torch.utils.checkpoint on each stage/block" : "no checkpointing" } : undefined,
      kilnPeakOverTorch: ok && pr && pr.peakBytes > 0 ? Math.round((ok.peakBytes / pr.peakBytes) * 1000) / 1000 : undefined,
      measuredOverPlanned: ok ? Math.round((ok.peakBytes / p.totalPlannedBytes) * 1000) / 1000 : undefined,
    };
  });

  if (dev.gpu) {
    console.log(`\nMeasured on ${String(dev.info.name)}: allocator peak over bind + one forward + backward (Kiln) vs torch.cuda.max_memory_allocated (PyTorch)\n`);
    printTable(
      ["model", "mirror/ckpt", "Kiln peak MiB", "plan MiB", "check", "1st step ms", "Kiln step ms", "p10", "p90", "torch peak MiB", "torch steady MiB", "torch step ms", "Kiln/torch"],
      cases.map((c) => {
        const k = c.kiln && !("error" in c.kiln) ? c.kiln : undefined;
        const t = c.peer;
        return [
          c.model,
          String(c.mirror),
          k ? mib(k.peakBytes) : c.kiln && "error" in c.kiln ? "error" : "-",
          mib(c.plan.totalPlannedBytes),
          k ? (k.check.ok ? "ok" : "MISMATCH") : "-",
          k ? `${Math.round(k.firstStepMs)} (${k.firstStepCache})` : "-",
          k ? k.step.median : "-",
          k ? k.step.p10 : "-",
          k ? k.step.p90 : "-",
          t && !t.error ? mib(t.peakBytes) : t?.error ? "error" : "-",
          t && t.steadyPeakBytes !== undefined ? mib(t.steadyPeakBytes) : "-",
          t?.step ? t.step.median : "-",
          c.kilnPeakOverTorch ?? "-",
        ];
      }),
    );
    for (const c of cases) {
      if (c.kiln && "error" in c.kiln) console.log(`Kiln ${c.model} mirror=${c.mirror}: ${c.kiln.error}`);
      else if (c.kiln && !c.kiln.check.ok) console.log(`Kiln ${c.model} mirror=${c.mirror}: check failed: ${c.kiln.check.detail}`);
      if (c.peer?.error) console.log(`torch ${c.model} checkpoint=${c.mirror}: ${c.peer.error}`);
    }
    if (!peer.ok) console.log(`PyTorch peer: ${peer.reason}`);
  } else if (cpuMlp) {
    if ("error" in cpuMlp) console.log(`\ncpu: MLP step failed: ${cpuMlp.error}`);
    else console.log(`\ncpu (C++ path, not a GPU figure): MLP batch ${BATCH} forward + backward ${cpuMlp.step.median.toFixed(3)} ms median; check ${cpuMlp.check.ok ? "ok" : "MISMATCH"} (${cpuMlp.check.detail})`);
  }
  if (reports.length) {
    console.log("\nptxas (sm_90) for the training programs' CUDA kernels\n");
    printTable(
      ["model", "mirror", "ok", "kernels", "max registers", "spilling kernels", "nvcc ms"],
      reports.map((r) => [r.model, String(r.mirror), r.ok ? "ok" : `FAILED: ${(r.error ?? "").split("\n")[0].slice(0, 80)}`, String(r.kernels.length), String(r.maxRegisters), String(r.spillingKernels), r.ms]),
    );
  } else if (!findNvcc()) console.log("\nnvcc not found: no ptxas report");

  writeResult("memory", dev, flags, {
    gpu: dev.gpu,
    batch: BATCH,
    dtype: "float32",
    floor,
    notes: [
      "plannedBytes: arena + op outputs written into bound arrays; naiveBytes: one buffer per op output (MXNet's naive allocation)",
      "arena+bound (totalPlannedBytes): arena + arguments (data, label included) + parameter gradients + aux states + outputs",
      "Kiln peak: caching allocator peakBytes (size classes) after resetPeak, over simpleBind + first forward(true) + backward",
      "torch peak: max_memory_allocated over model creation + inputs + first training step (steady: a second step with grads kept)",
      "mirror=true is compared with torch.utils.checkpoint on each ResNet stage (layer1..4) / each MLP hidden block",
      "mlp is MXNet's example MLP 784-128-64-10 (SoftmaxOutput); the ResNets are the shared model-zoo symbols",
    ],
    cases,
    peers: peer.ok ? { ok: true, env: peer.env } : { ok: false, reason: peer.reason },
    prewarm: prewarmed,
    compileReports: reports,
    cpu: cpuMlp ? { label: "cpu() C++ path, MLP training step", ...cpuMlp } : undefined,
    elapsedS: Math.round(elapsedS() * 10) / 10,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--prewarm")) {
    try {
      prewarmChild(process.argv);
    } catch (e) {
      console.error(`prewarm: ${(e as Error).message.split("\n")[0].slice(0, 300)}`);
      process.exitCode = 1;
    }
  }
  else await run(parseFlags());
}
