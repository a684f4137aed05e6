/**
 * The CPU device: inference on Kiln's cpu() (generated C++, OpenMP) against ONNX Runtime
 * (onnxruntime-node, CPU execution provider) on the same machine, with the same weights:
 *
 * - the shared MNIST models with their trained weights (mnist-0035, lenet-0001) on the first
 *   MNIST test images (pixels / 255), batch 1 and 64;
 * - ResNet-18 (resnet-18-symbol.json) with seeded weights on seeded 3x224x224 inputs, batch 1
 *   and 8 (--quick: the MNIST models alone, at batch 1 and 8).
 *
 * The weights reach ONNX Runtime through Kiln's own ONNX export (compiler/onnx/export, opset 13);
 * ONNX Runtime runs with as many intra-op threads as Kiln's OpenMP (OMP_NUM_THREADS, else every
 * core), graph optimizations on. Per case: images/s from the median time of one inference
 * (forward and reading the output back; the input is set once, before timing), with p10/p90,
 * Kiln and ONNX Runtime timed in alternating rounds so that both see the same machine noise;
 * GFLOP/s (2·MACs of the convolutions and dense layers); the time to the first inference
 * (Kiln: bind, C++ compile or kernel-cache hit, first forward; ONNX Runtime: session creation
 * and first run); and the outputs compared: max |Kiln − ORT|, each against the reference
 * executor (float64) where it runs (every MNIST case; ResNet-18 at batch 1), and top-1
 * agreement (and accuracy on the MNIST labels).
 *
 * onnxruntime-node is an optional dependency: without it (or with --no-peers) Kiln's side runs
 * alone and the JSON says why.
 *
 *   node dist/bench/cpu_inference.js [--quick] [--repeats N] [--warmup N] [--no-peers] [--out DIR]
 */
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { pathToFileURL } from "node:url";
import { sym, nd, cpu, reference, NDArray, Symbol } from "../index.js";
import type { Executor } from "../index.js";
import { cpuKernels } from "../runtime/cpu/index.js";
import { toONNX } from "../compiler/onnx/export/index.js";
import { BenchFlags, ROOT, Stats, benchDevice, copyBandwidth, parseFlags, printTable, randomArray, stats, writeResult } from "./harness.js";

const SHARED = process.env.KILN_SHARED_DATA ?? join(ROOT, "..", "shared", "data");
const MODELS_DIR = join(SHARED, "mxnet-models");

/** The part of onnxruntime-node's API this program uses. */
export interface OrtTensor {
  readonly data: ArrayLike<number>;
  readonly dims: readonly number[];
}
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release?(): Promise<void>;
}
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => OrtTensor;
  env?: { versions?: Record<string, string> };
}

/** onnxruntime-node when installed (an optional dependency), else why not. */
export async function loadOrt(): Promise<{ ok: true; ort: OrtModule; version: string } | { ok: false; reason: string }> {
  const name = "onnxruntime-node";
  try {
    const m = (await import(name)) as OrtModule & { default?: OrtModule };
    const ort = m.InferenceSession ? m : m.default!;
    let version = ort.env?.versions?.node ?? ort.env?.versions?.common ?? "";
    try {
      const { createRequire } = await import("node:module");
      const req = createRequire(import.meta.url);
      version = (JSON.parse(readFileSync(join(req.resolve(name), "..", "..", "package.json"), "utf8")) as { version: string }).version;
    } catch {
      // keep env.versions'
    }
    return { ok: true, ort, version };
  } catch (e) {
    return { ok: false, reason: `onnxruntime-node is not installed or does not load (${(e as Error).message.split("\n")[0]}); install it with npm install (it is an optional dependency)` };
  }
}

interface ModelCase {
  model: "mnist" | "lenet" | "resnet-18";
  /** Trained weights (<name>-<epoch>.params) or seeded ones. */
  weights: string;
  image: number[];
  batches: number[];
}

const CASES: ModelCase[] = [
  { model: "mnist", weights: "mnist-0035.params", image: [1, 28, 28], batches: [1, 64] },
  { model: "lenet", weights: "lenet-0001.params", image: [1, 28, 28], batches: [1, 64] },
  { model: "resnet-18", weights: "seeded", image: [3, 224, 224], batches: [1, 8] },
];

type Params = { args: Record<string, NDArray>; aux: Record<string, NDArray> };

function loadSymbol(model: string): Symbol {
  return sym.fromJSON(readFileSync(join(MODELS_DIR, `${model}-symbol.json`), "utf8"));
}

function loadParamsFile(file: string): Params {
  const params = nd.load(join(MODELS_DIR, file)) as Record<string, NDArray>;
  const out: Params = { args: {}, aux: {} };
  for (const [k, v] of Object.entries(params)) (k.startsWith("aux:") ? out.aux : out.args)[k.replace(/^(arg|aux):/, "")] = v;
  return out;
}

/**
 * Seeded weights that keep activations of the order of 1 through ResNet-18 at inference (its
 * logits come out with an RMS of about 2, so the softmax is not saturated and the outputs
 * compared are not all 0 and 1): weights uniform with variance 1/fan_in, BatchNorm gamma in
 * [0.5, 1.5], beta and biases in [−0.1, 0.1], moving means in [−0.1, 0.1], variances in [0.5, 1.5].
 */
export function seededParams(net: Symbol, shapes: Record<string, number[]>, seed = 3): Params {
  const [argShapes, , auxShapes] = net.inferShape(shapes);
  const out: Params = { args: {}, aux: {} };
  let k = seed;
  const make = (name: string, shape: number[]): NDArray => {
    const size = shape.reduce((a, b) => a * b, 1);
    const fan = size / Math.max(1, shape[0]);
    const [lo, hi] = name.endsWith("_weight")
      ? [-Math.sqrt(3 / fan), Math.sqrt(3 / fan)]
      : name.endsWith("_gamma") || name.endsWith("_var")
        ? [0.5, 1.5]
        : [-0.1, 0.1];
    return new NDArray(shape, "float32", cpu()).set(randomArray(size, ++k, lo, hi));
  };
  net.listArguments().forEach((name, i) => {
    if (!(name in shapes) && !name.endsWith("_label")) out.args[name] = make(name, argShapes[i]);
  });
  net.listAuxiliaryStates().forEach((name, i) => (out.aux[name] = make(name, auxShapes[i])));
  return out;
}

/** The first `batch` MNIST test images as pixels / 255, with their labels; seeded values when the set is missing. */
function mnistBatch(batch: number): { x: Float32Array; labels?: Uint8Array } {
  const dir = join(SHARED, "mnist");
  const img = join(dir, "t10k-images-idx3-ubyte.gz");
  const lab = join(dir, "t10k-labels-idx1-ubyte.gz");
  if (!existsSync(img) || !existsSync(lab)) return { x: randomArray(batch * 784, 5, 0, 1) };
  const pixels = gunzipSync(readFileSync(img)).subarray(16, 16 + batch * 784);
  return { x: Float32Array.from(pixels, (p) => p / 255), labels: gunzipSync(readFileSync(lab)).subarray(8, 8 + batch) };
}

/** Multiply-adds ×2 of the convolutions and dense layers of one batch (by shape inference). */
export function flopsOf(net: Symbol, shapes: Record<string, number[]>): number {
  const internals = net.getInternals();
  const names = internals.listOutputs();
  const outShapes = internals.inferShape(shapes)[1];
  const shapeOf = new Map(names.map((n, i) => [n, outShapes[i]]));
  let flops = 0;
  for (const node of net.graph().nodes) {
    if (node.isVariable) continue;
    const out = shapeOf.get(node.outputName(0));
    if (!out) continue;
    const size = out.reduce((a, b) => a * b, 1);
    const p = node.params as { kernel?: number[]; num_group?: number };
    if (node.op!.name === "Convolution") {
      const inShape = shapeOf.get(node.inputs[0].node.isVariable ? node.inputs[0].node.name : node.inputs[0].node.outputName(node.inputs[0].index));
      const cin = inShape?.[1] ?? 0;
      flops += 2 * size * (cin / (p.num_group ?? 1)) * (p.kernel ?? []).reduce((a, b) => a * b, 1);
    } else if (node.op!.name === "FullyConnected") {
      const e = node.inputs[0];
      const inShape = shapeOf.get(e.node.isVariable ? e.node.name : e.node.outputName(e.index)) ?? [];
      flops += 2 * size * (inShape.slice(1).reduce((a, b) => a * b, 1));
    }
  }
  return flops;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return a.length === b.length ? m : NaN;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Index of the largest value of each row. */
function argmaxRows(v: ArrayLike<number>, rows: number): number[] {
  const cols = v.length / rows;
  return Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let c = 1; c < cols; c++) if (v[r * cols + c] > v[r * cols + best]) best = c;
    return best;
  });
}

/** One contestant of a timing: `inner` runs per sample, sync or async. */
interface Contestant {
  run: () => void | Promise<unknown>;
  async: boolean;
  inner: number;
  samples: number[];
}

async function sample(c: Contestant): Promise<number> {
  const t0 = performance.now();
  if (c.async) for (let i = 0; i < c.inner; i++) await c.run();
  else for (let i = 0; i < c.inner; i++) c.run();
  return (performance.now() - t0) / c.inner;
}

/** Runs per sample so that one sample takes about `targetMs` (from a single timed run). */
async function innerFor(c: Omit<Contestant, "inner" | "samples">, targetMs: number): Promise<number> {
  const one = await sample({ ...c, inner: 1, samples: [] });
  return Math.max(1, Math.min(1000, Math.round(targetMs / Math.max(one, 1e-3))));
}

/**
 * Times the contestants in alternating rounds (a sample of each per round, after `warmup`
 * runs of each), so that noise on a shared machine falls on all of them alike.
 */
async function timeAlternating(cs: Omit<Contestant, "inner" | "samples">[], flags: Pick<BenchFlags, "repeats" | "warmup">, targetMs: number): Promise<Stats[]> {
  const full: Contestant[] = [];
  for (const c of cs) {
    for (let i = 0; i < flags.warmup; i++) await (c.async ? c.run() : Promise.resolve(c.run()));
    full.push({ ...c, inner: await innerFor(c, targetMs), samples: [] });
  }
  for (let r = 0; r < flags.repeats; r++) for (const c of full) c.samples.push(await sample(c));
  return full.map((c) => stats(c.samples));
}

export interface CaseResult {
  model: string;
  batch: number;
  input: number[];
  weights: string;
  gflopPerBatch: number;
  kiln: { ms: Stats; imagesPerS: number; gflops: number; firstRunMs: number; error?: string };
  ort?: { ms: Stats; imagesPerS: number; gflops: number; sessionMs: number; firstRunMs: number; error?: string };
  /** Kiln images/s ÷ ONNX Runtime images/s. */
  speedupVsOrt?: number;
  compare: {
    maxAbsKilnVsOrt?: number;
    maxAbsKilnVsReference?: number;
    maxAbsOrtVsReference?: number;
    /** max |output| (Kiln), the scale of the differences. */
    maxAbsOutput: number;
    top1AgreeKilnOrt?: string;
    top1AccuracyKiln?: string;
    referenceSkipped?: string;
  };
  ok: boolean;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const rs = (s: Stats): Stats => ({ median: r3(s.median), min: r3(s.min), p10: r3(s.p10), p90: r3(s.p90), n: s.n });

async function runCase(c: ModelCase, batch: number, net: Symbol, params: Params, ortLoaded: Awaited<ReturnType<typeof loadOrt>> | undefined, threads: number, flags: BenchFlags, reasonNoRef: string | undefined): Promise<CaseResult> {
  const shapes = { data: [batch, ...c.image] };
  const input = c.model === "resnet-18" ? { x: randomArray(batch * c.image.reduce((a, b) => a * b, 1), 9, -1, 1), labels: undefined } : mnistBatch(batch);
  const flops = flopsOf(net, shapes);
  const result: CaseResult = {
    model: c.model,
    batch,
    input: shapes.data,
    weights: c.weights,
    gflopPerBatch: r3(flops / 1e9),
    kiln: { ms: stats([NaN]), imagesPerS: 0, gflops: 0, firstRunMs: 0 },
    compare: { maxAbsOutput: 0 },
    ok: true,
  };
  const errors: string[] = [];

  // Kiln on cpu(): bind (compiles or hits the kernel cache) and the first inference.
  let t0 = performance.now();
  const exe: Executor = net.simpleBind({ ctx: cpu(), shapes, gradReq: "null" });
  exe.copyParamsFrom(params.args, params.aux, true);
  exe.argDict.data.set(input.x);
  exe.forward(false);
  const kilnOut = exe.outputs[0].toFloat64();
  result.kiln.firstRunMs = Math.round(performance.now() - t0);
  result.compare.maxAbsOutput = maxAbs(kilnOut);
  const kilnRun = (): void => {
    exe.forward(false);
    exe.outputs[0].toFloat64();
  };

  // The reference executor (float64, op by op): the host check.
  let refOut: Float64Array | undefined;
  if (reasonNoRef) result.compare.referenceSkipped = reasonNoRef;
  else {
    const ref = net.simpleBind({ ctx: reference(), shapes, gradReq: "null" });
    ref.copyParamsFrom(params.args, params.aux, true);
    ref.argDict.data.set(input.x);
    ref.forward(false);
    refOut = ref.outputs[0].toFloat64();
    result.compare.maxAbsKilnVsReference = maxAbsDiff(kilnOut, refOut);
  }
  const rows = batch;
  const kilnTop = argmaxRows(kilnOut, rows);
  if (input.labels) result.compare.top1AccuracyKiln = `${kilnTop.filter((p, i) => p === input.labels![i]).length}/${rows}`;

  // ONNX Runtime on the same weights, through Kiln's ONNX export.
  let ortRun: (() => Promise<unknown>) | undefined;
  let session: OrtSession | undefined;
  if (ortLoaded?.ok) {
    try {
      const { ort } = ortLoaded;
      const bytes = toONNX(net, params.args, params.aux, { shapes, opset: 13 });
      t0 = performance.now();
      session = await ort.InferenceSession.create(bytes, { executionProviders: ["cpu"], graphOptimizationLevel: "all", intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential" });
      const sessionMs = performance.now() - t0;
      const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", Float32Array.from(input.x), shapes.data) };
      const outName = session.outputNames[0];
      t0 = performance.now();
      const first = await session.run(feeds);
      const firstRunMs = performance.now() - t0;
      const ortOut = first[outName].data;
      result.ort = { ms: stats([NaN]), imagesPerS: 0, gflops: 0, sessionMs: Math.round(sessionMs), firstRunMs: r3(firstRunMs) };
      result.compare.maxAbsKilnVsOrt = maxAbsDiff(kilnOut, ortOut);
      if (refOut) result.compare.maxAbsOrtVsReference = maxAbsDiff(ortOut, refOut);
      const ortTop = argmaxRows(ortOut, rows);
      result.compare.top1AgreeKilnOrt = `${kilnTop.filter((p, i) => p === ortTop[i]).length}/${rows}`;
      const s = session;
      ortRun = () => s.run(feeds);
    } catch (e) {
      errors.push(`onnxruntime: ${(e as Error).message.split("\n").slice(0, 3).join(" | ")}`);
      result.ort = { ms: stats([NaN]), imagesPerS: 0, gflops: 0, sessionMs: 0, firstRunMs: 0, error: errors[errors.length - 1] };
    }
  }

  // Timing: alternating rounds, each sample ~20 ms (several inferences for the small cases).
  const contestants: Omit<Contestant, "inner" | "samples">[] = [{ run: kilnRun, async: false }];
  if (ortRun) contestants.push({ run: ortRun, async: true });
  const [k, o] = await timeAlternating(contestants, flags, flags.quick ? 5 : 20);
  const per = (s: Stats): { imagesPerS: number; gflops: number } => ({ imagesPerS: Math.round((batch / s.median) * 1000 * 10) / 10, gflops: r3(flops / (s.median * 1e6)) });
  result.kiln = { ...result.kiln, ms: rs(k), ...per(k) };
  if (o && result.ort) {
    result.ort = { ...result.ort, ms: rs(o), ...per(o) };
    result.speedupVsOrt = Math.round((o.median / k.median) * 100) / 100;
  }
  (exe as { dispose?(): void }).dispose?.();
  await session?.release?.();

  // Outputs must agree: float32 against float64 (reference) and against another float32 library.
  const scale = Math.max(1, result.compare.maxAbsOutput);
  const tol = 1e-3 * scale;
  const bad = (name: string, d: number | undefined): void => {
    if (d !== undefined && !(d <= tol)) errors.push(`${name} max |diff| ${d.toExponential(2)} > ${tol.toExponential(1)}`);
  };
  bad("Kiln vs reference", result.compare.maxAbsKilnVsReference);
  bad("Kiln vs ONNX Runtime", result.compare.maxAbsKilnVsOrt);
  if (errors.length) {
    result.ok = false;
    result.kiln.error = errors.join("; ");
  }
  return result;
}

export async function run(flags: BenchFlags): Promise<void> {
  const started = performance.now();
  const load0 = loadavg();
  const dev = benchDevice(false);
  const threads = Number(process.env.OMP_NUM_THREADS) || cpus().length;
  const cxx = cpuKernels.compiler();
  if (!cxx.compiler) {
    console.log(`cpu_inference: no C++ compiler (${cxx.error}); nothing to measure`);
    writeResult("cpu_inference", dev, flags, { gpu: false, error: `no C++ compiler: ${cxx.error}`, cases: [] });
    return;
  }
  const ortLoaded = flags.noPeers ? ({ ok: false, reason: "--no-peers" } as const) : await loadOrt();
  if (!ortLoaded.ok) console.log(`cpu_inference: ONNX Runtime not measured: ${ortLoaded.reason}; Kiln's side alone`);
  const cases = flags.quick ? CASES.filter((c) => c.model !== "resnet-18").map((c) => ({ ...c, batches: [1, 8] })) : CASES;
  console.log(
    `cpu_inference: Kiln cpu() (${cxx.compiler.command} ${cxx.compiler.flags.join(" ")}, ${threads} threads) vs ${ortLoaded.ok ? `onnxruntime-node ${ortLoaded.version} (CPU EP, ${threads} intra-op threads)` : "no peer"}; ` +
      `${flags.repeats} alternating samples after ${flags.warmup} warm-up runs${flags.quick ? " (--quick: MNIST models at batch 1 and 8 only)" : ""}`,
  );

  const results: CaseResult[] = [];
  for (const c of cases) {
    const net = loadSymbol(c.model);
    for (const batch of c.batches) {
      const shapes = { data: [batch, ...c.image] };
      const params = c.weights === "seeded" ? seededParams(net, shapes) : loadParamsFile(c.weights);
      // The reference executor interprets in float64: cheap for the MNIST models, seconds for ResNet-18 at batch 1.
      const noRef = c.model === "resnet-18" && batch > 1 ? "reference executor too slow at this batch (checked at batch 1)" : undefined;
      try {
        const r = await runCase(c, batch, net, params, ortLoaded, threads, flags, noRef);
        results.push(r);
        console.log(`  ${c.model} b${batch}: Kiln ${r.kiln.ms.median} ms${r.ort ? `, ORT ${r.ort.ms.median} ms` : ""}${r.ok ? "" : `  ERROR ${r.kiln.error}`}`);
      } catch (e) {
        const msg = (e as Error).message.split("\n").slice(0, 4).join(" | ");
        console.log(`  ${c.model} b${batch}: ERROR ${msg}`);
        results.push({ model: c.model, batch, input: shapes.data, weights: c.weights, gflopPerBatch: 0, kiln: { ms: stats([NaN]), imagesPerS: 0, gflops: 0, firstRunMs: 0, error: msg }, compare: { maxAbsOutput: 0 }, ok: false });
      }
    }
  }

  const f = (x: number | undefined): string | number => (x === undefined || Number.isNaN(x) ? "-" : x);
  const e = (x: number | undefined): string => (x === undefined ? "-" : x.toExponential(1));
  printTable(
    ["model", "batch", "Kiln ms (p10-p90)", "Kiln img/s", "Kiln GFLOP/s", "ORT ms (p10-p90)", "ORT img/s", "ORT GFLOP/s", "Kiln/ORT", "max|K-ORT|", "max|K-ref|", "max|ORT-ref|", "max|out|", "top1 K=ORT", "ok"],
    results.map((r) => [
      r.model,
      String(r.batch),
      `${formatMs(r.kiln.ms.median)} (${formatMs(r.kiln.ms.p10)}-${formatMs(r.kiln.ms.p90)})`,
      f(r.kiln.imagesPerS),
      f(r.kiln.gflops),
      r.ort && !r.ort.error ? `${formatMs(r.ort.ms.median)} (${formatMs(r.ort.ms.p10)}-${formatMs(r.ort.ms.p90)})` : "-",
      f(r.ort?.imagesPerS),
      f(r.ort?.gflops),
      r.speedupVsOrt !== undefined ? `${r.speedupVsOrt}x` : "-",
      e(r.compare.maxAbsKilnVsOrt),
      e(r.compare.maxAbsKilnVsReference),
      e(r.compare.maxAbsOrtVsReference),
      f(r3(r.compare.maxAbsOutput)),
      r.compare.top1AgreeKilnOrt ?? "-",
      r.ok ? "ok" : `ERROR: ${(r.kiln.error ?? "").slice(0, 80)}`,
    ]),
    `Inference on the CPU: images/s from the median of ${flags.repeats} samples (Kiln cpu() vs ONNX Runtime, ${threads} threads each)`,
  );
  printTable(
    ["model", "batch", "Kiln first inference ms (bind + compile/cache + run)", "ORT session ms", "ORT first run ms", "top-1 accuracy (Kiln, MNIST labels)"],
    results.map((r) => [r.model, String(r.batch), f(r.kiln.firstRunMs), f(r.ort?.sessionMs), f(r.ort?.firstRunMs), r.compare.top1AccuracyKiln ?? "-"]),
    "Time to the first inference",
  );

  const floor = copyBandwidth(dev, 1 << 26, { repeats: 10, warmup: 2 });
  writeResult("cpu_inference", dev, flags, {
    gpu: false,
    threads,
    /** The machine's 1/5/15-minute load averages at the start and the end (other work on a shared machine shows here). */
    loadAverage: { start: load0.map((x) => Math.round(x * 100) / 100), end: loadavg().map((x) => Math.round(x * 100) / 100), cores: cpus().length },
    floor: { note: "no FLOP peak measured: GFLOP/s are reported per case beside ONNX Runtime's; the host copy bandwidth is for scale", hostCopyGBps: Math.round(floor.gbps * 10) / 10 },
    compiler: { command: cxx.compiler.command, version: cxx.compiler.version, flags: cxx.compiler.flags },
    peer: ortLoaded.ok ? { name: "onnxruntime-node", version: ortLoaded.version, executionProvider: "cpu", intraOpNumThreads: threads, graphOptimizationLevel: "all", via: "Kiln's ONNX export (opset 13)" } : { name: "onnxruntime-node", skipped: ortLoaded.reason },
    method:
      "per case: input set once; a sample times `inner` inferences (forward + reading the output; ORT: await session.run) and divides; Kiln and ORT samples alternate round by round; median/p10/p90 over the samples",
    cases: results,
    allOk: results.every((r) => r.ok),
    elapsedS: Math.round((performance.now() - started) / 100) / 10,
  });
}

function formatMs(x: number): string {
  if (!Number.isFinite(x)) return "-";
  return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(parseFlags());
