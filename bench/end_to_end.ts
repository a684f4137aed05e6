/**
 * End to end: whole networks on Kiln against PyTorch eager and torch.compile (default mode).
 *   - one training step (forward + backward; gradients written, NO optimizer update) of the MLP
 *     784-128-64-10 (batch 128), LeNet (conv5x5x20 tanh maxpool conv5x5x50 tanh maxpool FC500
 *     tanh FC10, SoftmaxOutput; batch 128, 1x28x28) and the shared ResNet-18 symbol (batch 64,
 *     3x224x224; KILN_BENCH_RESNET_HW=112 for 3x112x112);
 *   - ResNet-50 inference (shared symbol, batch 32, 3x224x224).
 * Images/s of Kiln with CUDA-graph replay (the default) and without (compile { cudaGraphs:
 * false }), Kiln's kernel launches per step, and the first call's wall time (compilation).
 * float32 everywhere, TF32 off on both sides. The PyTorch models are built by the peer script
 * from the same symbol JSON (layer for layer), so both sides run the same network.
 *
 * Correctness, once per model before timing: the MLP's outputs and every gradient against the
 * host reference executor (float64, same batch); LeNet's outputs against the host reference on
 * the first 8 images; the ResNets' outputs are sanity-checked (finite, rows sum to 1) and, when
 * the peer runs, Kiln's outputs and gradients are compared with PyTorch's on the same weights
 * and inputs (written to a temporary file).
 *
 *   node dist/bench/end_to_end.js [--repeats 20] [--warmup 3] [--quick] [--no-peers] [--out DIR]
 *
 * Without a GPU: compiles the CUDA modules with nvcc (ptxas registers/spills) and times the
 * small models' training step on cpu(), clearly labelled.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { sym, reference, Context } from "../index.js";
import type { Symbol, Executor, KernelInfo, GradReq } from "../index.js";
import { BenchDevice, BenchFlags, ROOT, Stats, benchDevice, copyBandwidth, noGpuNotice, parseFlags, printTable, randomArray, runPeer, timeRuns, writeResult } from "./harness.js";
import { PtxasReport, startPtxas } from "./gemm_conv.js";

const DATA = process.env.KILN_SHARED_DATA ?? join(ROOT, "..", "shared", "data");
const loadModel = (name: string): Symbol => sym.fromJSON(readFileSync(join(DATA, "mxnet-models", `${name}-symbol.json`), "utf8"));

export interface Model {
  name: string;
  mode: "train" | "infer";
  batch: number;
  /** One image's shape. */
  image: number[];
  build(): Symbol;
  /** How Kiln's first result is checked on the host. */
  check: "reference-full" | "reference-first8" | "sanity";
  /** Whether the peer also times torch.compile (tens of seconds of compilation per model). */
  torchCompile: boolean;
  /** Fewer timed steps for the slow ones (keeps the program within its time budget). */
  maxRepeats?: number;
}

export function mlp(): Symbol {
  let x = sym.Variable("data");
  x = sym.Activation({ data: sym.FullyConnected({ data: x, num_hidden: 128, name: "fc1" }), act_type: "relu", name: "relu1" });
  x = sym.Activation({ data: sym.FullyConnected({ data: x, num_hidden: 64, name: "fc2" }), act_type: "relu", name: "relu2" });
  x = sym.FullyConnected({ data: x, num_hidden: 10, name: "fc3" });
  return sym.SoftmaxOutput({ data: x, name: "softmax" });
}

export function lenet(): Symbol {
  let x = sym.Variable("data");
  x = sym.Convolution({ data: x, num_filter: 20, kernel: [5, 5], name: "conv1" });
  x = sym.Activation({ data: x, act_type: "tanh", name: "tanh1" });
  x = sym.Pooling({ data: x, pool_type: "max", kernel: [2, 2], stride: [2, 2], name: "pool1" });
  x = sym.Convolution({ data: x, num_filter: 50, kernel: [5, 5], name: "conv2" });
  x = sym.Activation({ data: x, act_type: "tanh", name: "tanh2" });
  x = sym.Pooling({ data: x, pool_type: "max", kernel: [2, 2], stride: [2, 2], name: "pool2" });
  x = sym.Flatten({ data: x, name: "flatten" });
  x = sym.Activation({ data: sym.FullyConnected({ data: x, num_hidden: 500, name: "fc1" }), act_type: "tanh", name: "tanh3" });
  x = sym.FullyConnected({ data: x, num_hidden: 10, name: "fc2" });
  return sym.SoftmaxOutput({ data: x, name: "softmax" });
}

/**
 * torch.compile, cold, took ~8 s (MLP), ~21 s (LeNet), ~38 s (ResNet-50 inference) on an H100, and
 * more for ResNet-18 training: by default only the small training steps are compiled, which keeps
 * the program near 90 s. KILN_BENCH_TORCH_COMPILE=all compiles every model.
 */
export function models(): Model[] {
  const hw = Number(process.env.KILN_BENCH_RESNET_HW ?? 224);
  const all = process.env.KILN_BENCH_TORCH_COMPILE === "all";
  return [
    { name: "mlp 784-128-64-10", mode: "train", batch: 128, image: [784], build: mlp, check: "reference-full", torchCompile: true },
    { name: "lenet", mode: "train", batch: 128, image: [1, 28, 28], build: lenet, check: "reference-first8", torchCompile: true },
    { name: "resnet-18", mode: "train", batch: 64, image: [3, hw, hw], build: () => loadModel("resnet-18"), check: "sanity", torchCompile: all, maxRepeats: 10 },
    { name: "resnet-50", mode: "infer", batch: 32, image: [3, 224, 224], build: () => loadModel("resnet-50"), check: "sanity", torchCompile: all },
  ];
}

/** Classes of the network's (batch, classes) output (the shared ResNet-50 symbol has 63). */
export const classesOf = (net: Symbol, m: Model): number => net.inferShape({ data: [1, ...m.image] })[1][0][1];

const isInput = (n: string): boolean => n === "data" || n.endsWith("_label");
/** Training writes every parameter's gradient; data and labels get none. */
const gradReqOf = (net: Symbol): Record<string, GradReq> => Object.fromEntries(net.listArguments().filter((n) => !isInput(n)).map((n) => [n, "write" as GradReq]));

/** Host values of every argument and aux state: random, never zeros where it matters. */
export function hostValues(net: Symbol, m: Model, batch = m.batch): { args: Map<string, Float32Array>; aux: Map<string, Float32Array>; shapes: Map<string, number[]> } {
  const [argShapes, , auxShapes] = net.inferShape({ data: [batch, ...m.image] });
  const classes = classesOf(net, m);
  const args = new Map<string, Float32Array>();
  const aux = new Map<string, Float32Array>();
  const shapes = new Map<string, number[]>();
  const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
  net.listArguments().forEach((n, i) => {
    const s = [...argShapes[i]];
    shapes.set(n, s);
    const seed = 101 + i;
    if (n.endsWith("_label")) args.set(n, randomArray(size(s), seed, 0, classes).map(Math.floor));
    else if (n === "data") args.set(n, randomArray(size(s), seed));
    else if (n.endsWith("_weight")) {
      const a = Math.sqrt(3 / Math.max(1, size(s) / s[0]));
      args.set(n, randomArray(size(s), seed, -a, a));
    } else if (n.endsWith("_gamma")) args.set(n, randomArray(size(s), seed, 0.8, 1.2));
    else args.set(n, randomArray(size(s), seed, -0.1, 0.1));
  });
  net.listAuxiliaryStates().forEach((n, i) => {
    const s = [...auxShapes[i]];
    shapes.set(n, s);
    aux.set(n, n.endsWith("_var") ? randomArray(size(s), 501 + i, 0.8, 1.2) : randomArray(size(s), 501 + i, -0.1, 0.1));
  });
  return { args, aux, shapes };
}

function load(exe: Executor, v: ReturnType<typeof hostValues>): void {
  for (const [n, a] of v.args) exe.argDict[n].set(a);
  for (const [n, a] of v.aux) exe.auxDict[n].set(a);
}

function disposeAll(exe: Executor): void {
  (exe as { dispose?(): void }).dispose?.();
  for (const a of [...exe.argArrays, ...exe.gradArrays, ...exe.auxArrays, ...exe.outputs]) a?.dispose();
}

const kernelsOf = (exe: Executor): KernelInfo[] => (exe as unknown as { kernels: KernelInfo[] }).kernels;

/** max |a - b| / max |b| (b the reference). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    if (!Number.isFinite(a[i])) return Infinity;
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / Math.max(s, 1e-30);
}

interface Check {
  kind: string;
  ok: boolean;
  /** Worst relative error (max abs diff / max abs reference) over the compared tensors. */
  maxRelErr?: number;
  worst?: string;
  note?: string;
}

/** Kiln's first result (outputs, gradients) against the host, as the model's `check` says. */
function hostCheck(m: Model, net: Symbol, exe: Executor, v: ReturnType<typeof hostValues>): Check {
  const out = exe.outputs[0].toFloat64();
  const classes = exe.outputs[0].shape[1];
  if (m.check === "sanity") {
    let worstRow = 0;
    for (let r = 0; r < m.batch; r++) {
      let s = 0;
      for (let j = 0; j < classes; j++) s += out[r * classes + j];
      worstRow = Math.max(worstRow, Number.isFinite(s) ? Math.abs(s - 1) : Infinity);
    }
    let finiteGrads = true;
    if (m.mode === "train") for (const g of Object.values(exe.gradDict)) if (!g.toFloat64().every(Number.isFinite)) finiteGrads = false;
    return { kind: "sanity (finite, softmax rows sum to 1)", ok: worstRow < 1e-3 && finiteGrads, maxRelErr: worstRow, note: "full check against PyTorch when the peer runs" };
  }
  const batch = m.check === "reference-full" ? m.batch : 8;
  const ref = net.simpleBind({ ctx: reference(), shapes: { data: [batch, ...m.image] }, gradReq: m.check === "reference-full" ? gradReqOf(net) : "null" });
  for (const [n, a] of v.args) ref.argDict[n].set(batch === m.batch || !isInput(n) ? a : a.subarray(0, (a.length / m.batch) * batch));
  for (const [n, a] of v.aux) ref.auxDict[n].set(a);
  const errs: [string, number][] = [];
  if (m.check === "reference-full") {
    ref.forward(true);
    ref.backward();
    errs.push(["output", relErr(out, ref.outputs[0].toFloat64())]);
    for (const [n, g] of Object.entries(ref.gradDict)) errs.push([`grad ${n}`, relErr(exe.gradDict[n].toFloat64(), g.toFloat64())]);
  } else {
    ref.forward(false);
    errs.push(["output (first 8)", relErr(out.subarray(0, 8 * classes), ref.outputs[0].toFloat64())]);
  }
  const worst = errs.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { kind: m.check === "reference-full" ? "host reference (float64), outputs + all gradients" : "host reference (float64), outputs of the first 8 images", ok: worst[1] < 1e-4, maxRelErr: worst[1], worst: worst[0] };
}

/** Weights, inputs and Kiln's results in one float32 file for the peer's cross-check. */
export class CheckFile {
  readonly index: Record<string, { offset: number; shape: number[] }> = {};
  private offset = 0;
  private readonly fd: number;
  constructor(readonly path: string) {
    this.fd = openSync(path, "w");
  }
  add(key: string, shape: number[], values: ArrayLike<number>): void {
    const f = values instanceof Float32Array ? values : Float32Array.from(values);
    writeSync(this.fd, new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
    this.index[key] = { offset: this.offset, shape };
    this.offset += f.length;
  }
  close(): void {
    closeSync(this.fd);
  }
}

interface KilnModelRun {
  /** Default settings (on a GPU: CUDA-graph replay). */
  step?: { ms: Stats; imagesPerS: number };
  /** gpu(): compile { cudaGraphs: false }, kernel by kernel. */
  stepNoGraphs?: { ms: Stats; imagesPerS: number };
  firstStepS: number;
  kernels: { perStep: number; forward: number; backward: number };
  arenaMiB: number;
  check: Check;
  error?: string;
}

/** One model on Kiln: the checked first step, then timings with and (on a GPU) without graph replay. */
export function runModel(dev: BenchDevice, ctx: Context, m: Model, flags: Pick<BenchFlags, "repeats" | "warmup">, dump?: CheckFile): KilnModelRun {
  const net = m.build();
  const v = hostValues(net, m);
  const train = m.mode === "train";
  const bind = (cudaGraphs: boolean): Executor =>
    net.simpleBind({ ctx, shapes: { data: [m.batch, ...m.image] }, gradReq: train ? gradReqOf(net) : "null", compile: dev.gpu ? { cudaGraphs } : undefined });
  const stepOf = (exe: Executor): (() => void) => (train ? () => (exe.forward(true), exe.backward()) : () => void exe.forward(false));
  const ips = (ms: Stats): number => m.batch / (ms.median / 1000);
  const timing = { repeats: Math.min(flags.repeats, m.maxRepeats ?? Infinity), warmup: flags.warmup };

  const exe = bind(true);
  let r: KilnModelRun;
  try {
    load(exe, v);
    const t0 = performance.now();
    stepOf(exe)();
    exe.outputs[0].toFloat64(); // waits for the GPU
    const firstStepS = (performance.now() - t0) / 1000;
    const check = hostCheck(m, net, exe, v);
    if (dump) {
      for (const [n, a] of v.args) dump.add(`arg:${n}`, v.shapes.get(n)!, a);
      for (const [n, a] of v.aux) dump.add(`aux:${n}`, v.shapes.get(n)!, a);
      dump.add("out:0", [...exe.outputs[0].shape], exe.outputs[0].toFloat64());
      if (train) for (const [n, g] of Object.entries(exe.gradDict)) dump.add(`grad:${n}`, [...g.shape], g.toFloat64());
      dump.close();
    }
    const ks = kernelsOf(exe).filter((k) => k.variant === (train ? "train" : "forward"));
    const ms = timeRuns(dev, stepOf(exe), timing);
    r = {
      step: { ms, imagesPerS: ips(ms) },
      firstStepS,
      kernels: { perStep: ks.length, forward: ks.filter((k) => k.phase === "forward").length, backward: ks.filter((k) => k.phase === "backward").length },
      arenaMiB: Math.round(((exe as unknown as { memory: { arenaBytes: number } }).memory.arenaBytes / 2 ** 20) * 10) / 10,
      check,
    };
  } finally {
    disposeAll(exe);
  }
  if (!dev.gpu) return r;
  const plain = bind(false);
  try {
    load(plain, v);
    const ms = timeRuns(dev, stepOf(plain), timing);
    r.stepNoGraphs = { ms, imagesPerS: ips(ms) };
  } finally {
    disposeAll(plain);
  }
  return r;
}

interface PeerModel {
  name: string;
  eager?: { ms: Stats; hostMsPerStep?: number };
  compiled?: { ms: Stats; compileS: number; hostMsPerStep?: number };
  compileSkipped?: string;
  check?: { ok: boolean; maxAbsProbDiff: number; worstGradRelErr?: number; worstGrad?: string; gradsCompared?: number };
  error?: string;
}

const r2 = (x: number | undefined): number | undefined => (x === undefined ? undefined : Math.round(x * 100) / 100);

/** The modules nvcc compiles for ptxas reports: the slowest models (or the small ones in quick mode). */
function startReports(list: Model[]): Record<string, Promise<PtxasReport>> {
  const out: Record<string, Promise<PtxasReport>> = {};
  for (const m of list) {
    const net = m.build();
    out[m.name] = startPtxas(net, { shapes: { data: [m.batch, ...m.image] }, isTrain: m.mode === "train", gradReq: m.mode === "train" ? gradReqOf(net) : undefined });
  }
  return out;
}

async function settle(jobs: Record<string, Promise<PtxasReport>>): Promise<Record<string, PtxasReport>> {
  return Object.fromEntries(await Promise.all(Object.entries(jobs).map(async ([k, p]) => [k, await p] as const)));
}

/** Per-module summary: kernels, most registers, kernels that spill. */
function ptxasLine(r: PtxasReport): Record<string, unknown> {
  if (!r.ok) return { ok: false, error: r.error?.slice(0, 1000) };
  const maxRegs = Math.max(0, ...r.kernels.map((k) => k.registers));
  return { ok: true, kernels: r.kernels.length, maxRegisters: maxRegs, spilling: r.kernels.filter((k) => k.spillBytes > 0).map((k) => `${k.name} (${k.spillBytes} B)`), maxSharedBytes: Math.max(0, ...r.kernels.map((k) => k.sharedBytes)), seconds: r.seconds, perKernel: r.kernels };
}

export async function run(flags: BenchFlags): Promise<void> {
  const dev = benchDevice();
  const all = models();
  const list = flags.quick ? all.slice(0, 2) : all;

  if (dev.gpu) {
    const reportJobs = startReports(flags.quick ? list : all.slice(2));
    const bw = copyBandwidth(dev);
    const dir = !flags.noPeers ? mkdtempSync(join(tmpdir(), "kiln-e2e-")) : undefined;
    try {
      const kiln = new Map<string, KilnModelRun>();
      const checkFiles = new Map<string, CheckFile>();
      for (const m of list) {
        const dump = dir ? new CheckFile(join(dir, `${m.name.replace(/\W+/g, "_")}.bin`)) : undefined;
        try {
          kiln.set(m.name, runModel(dev, dev.ctx, m, flags, dump));
          if (dump) checkFiles.set(m.name, dump);
        } catch (err) {
          kiln.set(m.name, { error: String(err).slice(0, 800) } as KilnModelRun);
          console.log(`${m.name}: ${String(err).slice(0, 300)}`);
        }
      }
      const spec = {
        compileDeadlineS: 60,
        models: list.map((m) => {
          const net = m.build();
          const v = hostValues(net, m, 1);
          const f = checkFiles.get(m.name);
          return {
            name: m.name,
            mode: m.mode,
            batch: m.batch,
            image: m.image,
            classes: classesOf(net, m),
            compile: m.torchCompile,
            symbol: net.toJSON(),
            // Parameter shapes do not depend on the batch; data and label are the peer's own.
            argShapes: Object.fromEntries([...v.shapes].filter(([n]) => v.args.has(n) && !isInput(n))),
            auxShapes: Object.fromEntries([...v.shapes].filter(([n]) => v.aux.has(n))),
            check: f ? { file: f.path, index: f.index } : null,
          };
        }),
      };
      const peer = runPeer("end_to_end", spec, flags);
      const peerRows = peer.ok ? (peer.results as unknown as PeerModel[]) : [];
      const reports = await settle(reportJobs);

      const rows: Record<string, unknown>[] = [];
      const table: (string | number)[][] = [];
      for (const m of list) {
        const k = kiln.get(m.name)!;
        const p = peerRows.find((x) => x.name === m.name);
        const ips = (ms?: Stats): number | undefined => (ms ? m.batch / (ms.median / 1000) : undefined);
        const checks = [k.check ? (k.check.ok ? "host ok" : `host MISMATCH ${k.check.maxRelErr?.toExponential(1)}`) : "-", p?.check ? (p.check.ok ? "torch ok" : `torch MISMATCH`) : ""].filter(Boolean).join(", ");
        rows.push({
          model: m.name,
          mode: m.mode === "train" ? "training step (forward + backward, no optimizer update)" : "inference",
          batch: m.batch,
          input: [m.batch, ...m.image],
          kiln: k,
          torch: p ?? { error: peer.ok ? "no result" : peer.reason },
          ratios: {
            kilnSpeedupVsEager: k.step && p?.eager ? r2(p.eager.ms.median / k.step.ms.median) : undefined,
            kilnSpeedupVsCompiled: k.step && p?.compiled ? r2(p.compiled.ms.median / k.step.ms.median) : undefined,
          },
        });
        table.push([
          m.name,
          m.mode,
          String(m.batch),
          k.step ? k.step.imagesPerS : "error",
          k.stepNoGraphs ? k.stepNoGraphs.imagesPerS : "-",
          ips(p?.eager?.ms) ?? "-",
          ips(p?.compiled?.ms) ?? (p?.compileSkipped ? "skipped" : "-"),
          k.kernels ? String(k.kernels.perStep) : "-",
          k.step ? k.step.ms.median : "-",
          k.firstStepS ?? "-",
          checks,
        ]);
      }
      console.log(`End to end on ${String(dev.info.name)}: images/s (median of ${flags.repeats} steps, at most 10 for ResNet-18; CUDA events), fp32, TF32 off; training = forward + backward, no optimizer update`);
      if (!peer.ok) console.log(`PyTorch peer not run: ${peer.reason}`);
      printTable(["model", "mode", "batch", "Kiln img/s", "Kiln no-graph", "torch eager", "torch.compile", "kernels/step", "Kiln ms", "first step s", "check"], table);
      const ptxas = Object.fromEntries(Object.entries(reports).map(([k, r]) => [k, ptxasLine(r)]));
      for (const [k, r] of Object.entries(ptxas)) console.log(`ptxas ${k}: ${r.ok ? `${r.kernels} kernels, max ${r.maxRegisters} registers, spilling: ${(r.spilling as string[]).join(", ") || "none"}` : r.error}`);
      writeResult("end_to_end", dev, flags, { gpu: true, floor: { copyGBps: Math.round(bw.gbps) }, models: rows, ptxas, peers: peer.ok ? peer.env : { error: peer.reason } });
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
    return;
  }

  // No GPU: nvcc on the CUDA modules (in the background), cpu() training steps of the small models.
  noGpuNotice("end_to_end", dev);
  const reports = await settle(startReports(list));
  const cpuList = flags.quick ? list.slice(0, 1) : list.slice(0, 2);
  const rows: Record<string, unknown>[] = [];
  const table: (string | number)[][] = [];
  for (const m of cpuList) {
    try {
      const k = runModel(dev, dev.ctx, m, { repeats: Math.min(flags.repeats, 5), warmup: Math.min(flags.warmup, 1) });
      rows.push({ model: m.name, device: "cpu", mode: m.mode, batch: m.batch, kiln: k });
      table.push([m.name, m.mode, String(m.batch), k.step!.imagesPerS, k.step!.ms.median, String(k.kernels.perStep), k.check.ok ? "ok" : `MISMATCH ${k.check.maxRelErr?.toExponential(1)}`]);
    } catch (err) {
      rows.push({ model: m.name, device: "cpu", error: String(err).slice(0, 800) });
      table.push([m.name, m.mode, String(m.batch), "error", "-", "-", String(err).slice(0, 60)]);
    }
  }
  console.log("\ncpu() training steps (C++ kernels, host clock; NOT GPU numbers):");
  printTable(["model (cpu)", "mode", "batch", "img/s", "ms", "kernels/step", "check"], table);
  const ptxas = Object.fromEntries(Object.entries(reports).map(([k, r]) => [k, ptxasLine(r)]));
  for (const [k, r] of Object.entries(ptxas)) console.log(`nvcc -arch=sm_90 ${k}: ${r.ok ? `${r.kernels} kernels, max ${r.maxRegisters} registers, spilling: ${(r.spilling as string[]).join(", ") || "none"}` : r.error}`);
  const compile = { ok: Object.values(reports).every((r) => r.ok), arch: "sm_90", modules: ptxas };
  writeResult("end_to_end", dev, flags, { gpu: false, noGpuReason: dev.noGpuReason, floor: { note: "no GPU: no floor measured" }, compile, cpu: rows });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(parseFlags());
