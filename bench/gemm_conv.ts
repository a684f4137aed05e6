/**
 * GPU GEMM and convolution: Kiln's FullyConnected and Convolution kernels against cuBLAS and
 * cuDNN (torch.matmul / F.linear / F.conv2d) on the shapes of real networks — the MLP's layers
 * (batch 128: 784->128, 128->64), the ResNet heads (2048->1000, 512->1000 at batch 128 and 256),
 * a square 4096^3 dense layer, the ResNet-18/50 convolutions at batch 32 (3x3 at 56/28/14, 1x1
 * 256->64 and 1024->256, the 7x7/2 stem) forward, and for one FC and one convolution the data
 * and weight gradients (training graph, gradReq write on data and weight; backward() timed).
 * Each case in fp32 and with TF32 tensor cores (Kiln: compile { tf32: true }; torch: the TF32
 * flags of cuBLAS and cuDNN). TFLOP/s counts 2*M*N*K of the GEMM view (padding included).
 *
 *   node dist/bench/gemm_conv.js [--repeats 20] [--warmup 3] [--quick] [--no-peers] [--out DIR]
 *
 * Without a GPU: compiles the cases' CUDA kernels with nvcc (ptxas registers, spills, shared
 * memory) and times the same graphs on cpu() at batch-1 (convolutions) or smaller shapes.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { sym, NDArray, Context } from "../index.js";
import type { Symbol, Executor, KernelInfo } from "../index.js";
import { compileSymbol } from "../runtime/executor/compile_symbol.js";
import type { CompileSymbolOptions } from "../runtime/executor/compile_symbol.js";
import { renderModule } from "../compiler/codegen/index.js";
import {
  BenchDevice,
  BenchFlags,
  PtxasKernel,
  Stats,
  benchDevice,
  copyBandwidth,
  findNvcc,
  noGpuNotice,
  parseFlags,
  parsePtxas,
  printTable,
  randomArray,
  runPeer,
  timeRuns,
  writeResult,
} from "./harness.js";

// ---------------------------------------------------------------------------------------------
// ptxas reports compiled in the background (nvcc runs while the GPU is being timed)
// ---------------------------------------------------------------------------------------------

export interface PtxasReport {
  ok: boolean;
  kernels: PtxasKernel[];
  error?: string;
  seconds: number;
}

/**
 * compileCheckCuda (harness.ts) without blocking: renders the symbol's CUDA module now, starts
 * nvcc -Xptxas -v on it, and returns a promise of the report. nvcc writes its log to a file
 * (a pipe would fill while this thread is busy timing and stall it).
 */
export function startPtxas(symbol: Symbol, opts: CompileSymbolOptions & { tf32?: boolean; arch?: string }): Promise<PtxasReport> {
  const t0 = performance.now();
  const nvcc = findNvcc();
  if (!nvcc) return Promise.resolve({ ok: false, kernels: [], error: "nvcc not found", seconds: 0 });
  let dir: string;
  let args: string[];
  try {
    const compiled = compileSymbol(symbol, { ...opts, target: "none" });
    const mod = renderModule(compiled.program.kernels, "cuda", { tf32: opts.tf32 });
    dir = mkdtempSync(join(tmpdir(), "kiln-bench-ptxas-"));
    writeFileSync(join(dir, "module.cu"), mod.source);
    args = ["-cubin", `-arch=${opts.arch ?? "sm_90"}`, "-Xptxas", "-v", "-o", join(dir, "module.cubin"), join(dir, "module.cu")];
  } catch (err) {
    return Promise.resolve({ ok: false, kernels: [], error: `render: ${String(err)}`, seconds: 0 });
  }
  const logPath = join(dir, "log.txt");
  const fd = openSync(logPath, "w");
  return new Promise((resolve) => {
    const finish = (r: Omit<PtxasReport, "seconds">): void => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ ...r, seconds: Math.round(performance.now() - t0) / 1000 });
    };
    const child = spawn(nvcc, args, { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    child.on("error", (err) => finish({ ok: false, kernels: [], error: `${nvcc}: ${err.message}` }));
    child.on("close", (code) => {
      const log = readFileSync(logPath, "utf8");
      if (code !== 0) finish({ ok: false, kernels: [], error: log.slice(0, 4000) });
      else finish({ ok: true, kernels: parsePtxas(log) });
    });
  });
}

/** "regs/spill bytes/smem bytes" of each kernel, joined. */
export function ptxasSummary(names: readonly string[], report: PtxasReport | undefined): string {
  if (!report?.ok) return "-";
  return names
    .map((n) => report.kernels.find((k) => k.name === n))
    .map((k) => (k ? `${k.registers}/${k.spillBytes}/${k.sharedBytes}` : "?"))
    .join(" ");
}

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

interface FcShape {
  batch: number;
  inF: number;
  outF: number;
  bias: boolean;
}
interface ConvShape {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  kernel: number;
  stride: number;
  pad: number;
}
export interface GemmCase {
  name: string;
  kind: "fc" | "conv";
  /** Data and weight gradients (backward) instead of the forward. */
  grad: boolean;
  fc?: FcShape;
  conv?: ConvShape;
}

const fc = (name: string, batch: number, inF: number, outF: number, bias = true, grad = false): GemmCase => ({ name, kind: "fc", grad, fc: { batch, inF, outF, bias } });
const conv = (name: string, n: number, c: number, hw: number, k: number, kernel: number, stride = 1, grad = false): GemmCase => ({
  name,
  kind: "conv",
  grad,
  conv: { n, c, h: hw, w: hw, k, kernel, stride, pad: (kernel - 1) >> 1 },
});

export function allCases(): GemmCase[] {
  return [
    fc("fc mlp 784->128 b128", 128, 784, 128),
    fc("fc mlp 128->64 b128", 128, 128, 64),
    fc("fc r50 head 2048->1000 b128", 128, 2048, 1000),
    fc("fc r50 head 2048->1000 b256", 256, 2048, 1000),
    fc("fc r18 head 512->1000 b128", 128, 512, 1000),
    fc("fc r18 head 512->1000 b256", 256, 512, 1000),
    fc("dense 4096^3 (no bias)", 4096, 4096, 4096, false),
    conv("conv 3x3 64->64 56x56 b32", 32, 64, 56, 64, 3),
    conv("conv 3x3 128->128 28x28 b32", 32, 128, 28, 128, 3),
    conv("conv 3x3 256->256 14x14 b32", 32, 256, 14, 256, 3),
    conv("conv 1x1 256->64 56x56 b32", 32, 256, 56, 64, 1),
    conv("conv 1x1 1024->256 14x14 b32", 32, 1024, 14, 256, 1),
    conv("conv 7x7/2 3->64 224x224 b32", 32, 3, 224, 64, 7, 2),
    fc("fc 2048->1000 b256 dgrad+wgrad", 256, 2048, 1000, false, true),
    conv("conv 3x3 128->128 28x28 b32 dgrad+wgrad", 32, 128, 28, 128, 3, 1, true),
  ];
}

/** The few cases of a --quick run on a GPU. */
function quickCases(): GemmCase[] {
  const all = allCases();
  return [all[0], all[3], all[7], all[14]];
}

/** The same graphs at host-sized shapes (convolutions at batch 1, the big FC smaller), for cpu(). */
function cpuCase(c: GemmCase): GemmCase {
  if (c.fc) return { ...c, name: `${c.name} (cpu: ${c.fc.batch === 4096 ? "1024^3" : "same"})`, fc: c.fc.batch === 4096 ? { ...c.fc, batch: 1024, inF: 1024, outF: 1024 } : c.fc };
  return { ...c, name: c.name.replace(/b32/, "b1 (cpu)"), conv: { ...c.conv!, n: 1 } };
}

const outHW = (s: ConvShape): [number, number] => [Math.floor((s.h + 2 * s.pad - s.kernel) / s.stride) + 1, Math.floor((s.w + 2 * s.pad - s.kernel) / s.stride) + 1];

/** M, N, K of the GEMM view: FC (batch, out, in); convolution (N*Ho*Wo, Cout, Cin*kh*kw). */
export function gemmView(c: GemmCase): { M: number; N: number; K: number } {
  if (c.fc) return { M: c.fc.batch, N: c.fc.outF, K: c.fc.inF };
  const s = c.conv!;
  const [ho, wo] = outHW(s);
  return { M: s.n * ho * wo, N: s.k, K: s.c * s.kernel * s.kernel };
}

/** FLOPs of one timed call: 2MNK forward, twice that for data + weight gradients. */
export function flopsOf(c: GemmCase): number {
  const { M, N, K } = gemmView(c);
  return 2 * M * N * K * (c.grad ? 2 : 1);
}

/** Back-to-back calls per timed sample, so tiny cases measure the kernel rather than one launch. */
const innerOf = (c: GemmCase): number => Math.max(1, Math.min(20, Math.round(2e9 / flopsOf(c))));

/** The case's graph; `p` prefixes every name so several cases can share one module (ptxas). */
export function caseSymbol(c: GemmCase, p = ""): Symbol {
  const data = sym.Variable(`${p}data`);
  if (c.fc) return sym.FullyConnected({ data, num_hidden: c.fc.outF, no_bias: !c.fc.bias, name: `${p}fc` });
  const s = c.conv!;
  return sym.Convolution({ data, num_filter: s.k, kernel: [s.kernel, s.kernel], stride: [s.stride, s.stride], pad: [s.pad, s.pad], no_bias: true, name: `${p}conv` });
}

const dataShape = (c: GemmCase): number[] => (c.fc ? [c.fc.batch, c.fc.inF] : [c.conv!.n, c.conv!.c, c.conv!.h, c.conv!.w]);
const opName = (c: GemmCase, p = ""): string => `${p}${c.fc ? "fc" : "conv"}`;
const gradReqOf = (c: GemmCase, p = ""): Record<string, "write"> => ({ [`${p}data`]: "write", [`${opName(c, p)}_weight`]: "write" });

// ---------------------------------------------------------------------------------------------
// Host check: a few sampled elements in float64
// ---------------------------------------------------------------------------------------------

interface HostInputs {
  x: Float32Array;
  w: Float32Array;
  b?: Float32Array;
  gy?: Float32Array;
}

/** Indices 0..n-1, `k` of them, spread by a fixed generator (first and last included). */
function samples(n: number, k = 16): number[] {
  const r = randomArray(k, 7, 0, 1);
  const out = new Set<number>([0, n - 1]);
  for (let i = 0; out.size < Math.min(k, n) && i < k; i++) out.add(Math.floor(r[i] * n));
  return [...out];
}

/**
 * One sampled element's exact value and the scale it is judged against (the sum of the
 * absolute terms): |kiln - exact| / scale is the relative error of that dot product.
 */
type Exact = (i: number) => { v: number; scale: number };

function fcForward(s: FcShape, h: HostInputs): Exact {
  return (i) => {
    const m = Math.floor(i / s.outF);
    const n = i % s.outF;
    let v = h.b ? h.b[n] : 0;
    let scale = Math.abs(v);
    for (let k = 0; k < s.inF; k++) {
      const t = h.x[m * s.inF + k] * h.w[n * s.inF + k];
      v += t;
      scale += Math.abs(t);
    }
    return { v, scale };
  };
}

/** dX (batch, in) = gy (batch, out) . W (out, in); dW (out, in) = gy^T . X. */
function fcGrads(s: FcShape, h: HostInputs): { dx: Exact; dw: Exact } {
  const gy = h.gy!;
  return {
    dx: (i) => {
      const m = Math.floor(i / s.inF);
      const k = i % s.inF;
      let v = 0;
      let scale = 0;
      for (let n = 0; n < s.outF; n++) {
        const t = gy[m * s.outF + n] * h.w[n * s.inF + k];
        v += t;
        scale += Math.abs(t);
      }
      return { v, scale };
    },
    dw: (i) => {
      const n = Math.floor(i / s.inF);
      const k = i % s.inF;
      let v = 0;
      let scale = 0;
      for (let m = 0; m < s.batch; m++) {
        const t = gy[m * s.outF + n] * h.x[m * s.inF + k];
        v += t;
        scale += Math.abs(t);
      }
      return { v, scale };
    },
  };
}

function convForward(s: ConvShape, h: HostInputs): Exact {
  const [ho, wo] = outHW(s);
  const K = s.kernel;
  return (i) => {
    const ow = i % wo;
    const oh = Math.floor(i / wo) % ho;
    const co = Math.floor(i / (wo * ho)) % s.k;
    const n = Math.floor(i / (wo * ho * s.k));
    let v = 0;
    let scale = 0;
    for (let ci = 0; ci < s.c; ci++)
      for (let kh = 0; kh < K; kh++)
        for (let kw = 0; kw < K; kw++) {
          const y = oh * s.stride - s.pad + kh;
          const x = ow * s.stride - s.pad + kw;
          if (y < 0 || y >= s.h || x < 0 || x >= s.w) continue;
          const t = h.x[((n * s.c + ci) * s.h + y) * s.w + x] * h.w[((co * s.c + ci) * K + kh) * K + kw];
          v += t;
          scale += Math.abs(t);
        }
    return { v, scale };
  };
}

function convGrads(s: ConvShape, h: HostInputs): { dx: Exact; dw: Exact } {
  const [ho, wo] = outHW(s);
  const K = s.kernel;
  const gy = h.gy!;
  return {
    dx: (i) => {
      const x = i % s.w;
      const y = Math.floor(i / s.w) % s.h;
      const ci = Math.floor(i / (s.w * s.h)) % s.c;
      const n = Math.floor(i / (s.w * s.h * s.c));
      let v = 0;
      let scale = 0;
      for (let co = 0; co < s.k; co++)
        for (let kh = 0; kh < K; kh++)
          for (let kw = 0; kw < K; kw++) {
            const ty = y + s.pad - kh;
            const tx = x + s.pad - kw;
            if (ty % s.stride !== 0 || tx % s.stride !== 0) continue;
            const oh = ty / s.stride;
            const ow = tx / s.stride;
            if (oh < 0 || oh >= ho || ow < 0 || ow >= wo) continue;
            const t = gy[((n * s.k + co) * ho + oh) * wo + ow] * h.w[((co * s.c + ci) * K + kh) * K + kw];
            v += t;
            scale += Math.abs(t);
          }
      return { v, scale };
    },
    dw: (i) => {
      const kw = i % K;
      const kh = Math.floor(i / K) % K;
      const ci = Math.floor(i / (K * K)) % s.c;
      const co = Math.floor(i / (K * K * s.c));
      let v = 0;
      let scale = 0;
      for (let n = 0; n < s.n; n++)
        for (let oh = 0; oh < ho; oh++)
          for (let ow = 0; ow < wo; ow++) {
            const y = oh * s.stride - s.pad + kh;
            const x = ow * s.stride - s.pad + kw;
            if (y < 0 || y >= s.h || x < 0 || x >= s.w) continue;
            const t = gy[((n * s.k + co) * ho + oh) * wo + ow] * h.x[((n * s.c + ci) * s.h + y) * s.w + x];
            v += t;
            scale += Math.abs(t);
          }
      return { v, scale };
    },
  };
}

/** Largest |got - exact| / scale over the sampled elements. */
function sampleError(got: Float64Array, exact: Exact): number {
  let worst = 0;
  for (const i of samples(got.length)) {
    const e = exact(i);
    const err = Math.abs(got[i] - e.v) / Math.max(e.scale, 1e-30);
    worst = Number.isFinite(got[i]) ? Math.max(worst, err) : Infinity;
  }
  return worst;
}

// ---------------------------------------------------------------------------------------------
// Running one case on Kiln
// ---------------------------------------------------------------------------------------------

export interface KilnRun {
  ms: Stats;
  /** Wall time of the first call (compilation included), seconds. */
  firstCallS: number;
  /** Largest relative error of the sampled elements against the host (per dot product). */
  maxRelErr: number;
  checkOk: boolean;
  kernels: string[];
}

const tolerance = (tf32: boolean): number => (tf32 ? 5e-3 : 1e-4);

function disposeAll(exe: Executor): void {
  (exe as { dispose?(): void }).dispose?.();
  for (const a of [...exe.argArrays, ...exe.gradArrays, ...exe.outputs]) a?.dispose();
}

export function runKiln(dev: BenchDevice, ctx: Context, c: GemmCase, tf32: boolean, flags: Pick<BenchFlags, "repeats" | "warmup">): KilnRun {
  const net = caseSymbol(c);
  const shape = dataShape(c);
  const exe = net.simpleBind({ ctx, shapes: { data: shape }, gradReq: c.grad ? gradReqOf(c) : "null", compile: { tf32 } });
  try {
    const wName = `${opName(c)}_weight`;
    const h: HostInputs = { x: randomArray(exe.argDict.data.size, 11), w: randomArray(exe.argDict[wName].size, 12) };
    exe.argDict.data.set(h.x);
    exe.argDict[wName].set(h.w);
    const bName = `${opName(c)}_bias`;
    if (exe.argDict[bName]) exe.argDict[bName].set((h.b = randomArray(exe.argDict[bName].size, 13)));
    let head: NDArray | undefined;
    if (c.grad) head = new NDArray(exe.outputs[0].shape, "float32", ctx).set((h.gy = randomArray(exe.outputs[0].size, 14)));

    const t0 = performance.now();
    let maxRelErr: number;
    let call: () => void;
    if (!c.grad) {
      exe.forward(false);
      const y = exe.outputs[0].toFloat64();
      maxRelErr = sampleError(y, c.fc ? fcForward(c.fc, h) : convForward(c.conv!, h));
      call = () => exe.forward(false);
    } else {
      exe.forward(true);
      exe.backward(head);
      const dx = exe.gradDict.data.toFloat64();
      const dw = exe.gradDict[wName].toFloat64();
      const g = c.fc ? fcGrads(c.fc, h) : convGrads(c.conv!, h);
      maxRelErr = Math.max(sampleError(dx, g.dx), sampleError(dw, g.dw));
      call = () => exe.backward(head);
    }
    const firstCallS = (performance.now() - t0) / 1000;
    const ms = timeRuns(dev, call, flags, dev.gpu ? innerOf(c) : 1);
    const kernels = (exe as unknown as { kernels: KernelInfo[] }).kernels.filter((k) => (c.grad ? k.phase === "backward" : true)).map((k) => k.name);
    head?.dispose();
    return { ms, firstCallS, maxRelErr, checkOk: maxRelErr <= tolerance(tf32), kernels };
  } finally {
    disposeAll(exe);
  }
}

// ---------------------------------------------------------------------------------------------
// The program
// ---------------------------------------------------------------------------------------------

const tflops = (c: GemmCase, ms: number | undefined): number | undefined => (ms ? flopsOf(c) / (ms * 1e9) : undefined);
const r3 = (x: number | undefined): number | undefined => (x === undefined ? undefined : Math.round(x * 1000) / 1000);

/** Nominal dense peaks of the H100 SXM (NVIDIA's data sheet), only as a labelled reference. */
function nominalPeak(dev: BenchDevice): Record<string, unknown> | undefined {
  const name = String(dev.info.name ?? "");
  if (/H100/.test(name) && /HBM3|SXM/.test(name)) return { source: "NVIDIA H100 SXM data sheet (dense)", fp32Tflops: 67, tf32Tflops: 495 };
  return undefined;
}

/** Starts ptxas on every case of `cases` in one module per (forward | gradients) x precision. */
function startCaseReports(cases: GemmCase[]): Record<string, Promise<PtxasReport>> {
  const out: Record<string, Promise<PtxasReport>> = {};
  const groups = { forward: cases.filter((c) => !c.grad), grad: cases.filter((c) => c.grad) };
  for (const [label, list] of Object.entries(groups)) {
    if (list.length === 0) continue;
    const net = sym.Group(list.map((c, i) => caseSymbol(c, `c${i}_`)));
    const shapes = Object.fromEntries(list.map((c, i) => [`c${i}_data`, dataShape(c)]));
    const gradReq = Object.assign({}, ...list.map((c, i) => gradReqOf(c, `c${i}_`))) as Record<string, "write">;
    for (const tf32 of [false, true]) out[`${label} ${tf32 ? "tf32" : "fp32"}`] = startPtxas(net, { shapes, tf32, isTrain: label === "grad", gradReq });
  }
  return out;
}

/** Kernel names of each case as compileSymbol names them (the same names the executor uses). */
function caseKernelNames(c: GemmCase): string[] {
  const compiled = compileSymbol(caseSymbol(c), { shapes: { data: dataShape(c) }, isTrain: c.grad, gradReq: c.grad ? gradReqOf(c) : undefined });
  return compiled.kernels.filter((k) => (c.grad ? k.phase === "backward" : true)).map((k) => k.name);
}

interface PeerRow {
  name: string;
  precision: string;
  ms?: Stats;
  error?: string;
}

export async function run(flags: BenchFlags): Promise<void> {
  const dev = benchDevice();
  const cases = dev.gpu ? (flags.quick ? quickCases() : allCases()) : flags.quick ? [allCases()[0], allCases()[7], allCases()[14]] : allCases();
  // The fp32 and TF32 modules of every case, compiled by nvcc while the GPU is timed.
  const reportJobs = startCaseReports(cases);
  const precisions = [false, true];

  const rows: Record<string, unknown>[] = [];
  const table: (string | number)[][] = [];
  let floor: Record<string, unknown> = {};
  let peerEnv: Record<string, unknown> | undefined;
  let peerReason: string | undefined;

  if (dev.gpu) {
    const bw = copyBandwidth(dev);
    const kiln = new Map<string, KilnRun | { error: string }>();
    for (const c of cases)
      for (const tf32 of precisions) {
        try {
          kiln.set(`${c.name}|${tf32}`, runKiln(dev, dev.ctx, c, tf32, flags));
        } catch (err) {
          kiln.set(`${c.name}|${tf32}`, { error: String(err).slice(0, 500) });
        }
      }
    const spec = {
      cases: cases.flatMap((c) => precisions.map((tf32) => ({ name: c.name, precision: tf32 ? "tf32" : "fp32", kind: c.kind, grad: c.grad, fc: c.fc, conv: c.conv, inner: innerOf(c) }))),
    };
    const peer = runPeer("gemm_conv", spec, flags);
    const peerRows = peer.ok ? (peer.results as unknown as PeerRow[]) : [];
    if (peer.ok) peerEnv = peer.env;
    else peerReason = peer.reason;
    const reports = Object.fromEntries(await Promise.all(Object.entries(reportJobs).map(async ([k, p]) => [k, await p] as const)));

    const dense = cases.find((c) => c.name.startsWith("dense 4096"));
    const libPeak = (prec: string): number | undefined => {
      const pr = peerRows.find((r) => r.name === dense?.name && r.precision === prec);
      return dense && pr?.ms ? tflops(dense, pr.ms.median) : undefined;
    };
    floor = { copyGBps: Math.round(bw.gbps), libraryDense4096Tflops: { fp32: r3(libPeak("fp32")), tf32: r3(libPeak("tf32")) }, nominal: nominalPeak(dev) };

    for (const c of cases)
      for (const tf32 of precisions) {
        const prec = tf32 ? "tf32" : "fp32";
        const k = kiln.get(`${c.name}|${tf32}`)!;
        const p = peerRows.find((r) => r.name === c.name && r.precision === prec);
        const ok = "ms" in k;
        const kMs = ok ? k.ms.median : undefined;
        const pMs = p?.ms?.median;
        const report = reports[`${c.grad ? "grad" : "forward"} ${prec}`];
        const kernels = ok ? k.kernels : caseKernelNames(c);
        const { M, N, K } = gemmView(c);
        rows.push({
          case: c.name,
          precision: prec,
          kind: c.kind,
          grad: c.grad,
          sizes: { M, N, K, ...(c.fc ?? c.conv) },
          gflop: r3(flopsOf(c) / 1e9),
          inner: innerOf(c),
          kiln: ok ? { ms: k.ms, tflops: r3(tflops(c, kMs)), firstCallS: r3(k.firstCallS), maxRelErr: k.maxRelErr, checkOk: k.checkOk, kernels } : { error: (k as { error: string }).error, kernels },
          library: p?.ms ? { op: c.grad ? "autograd.grad" : c.fc ? (c.fc.bias ? "F.linear" : "torch.matmul") : "F.conv2d", ms: p.ms, tflops: r3(tflops(c, pMs)) } : { error: p?.error ?? peerReason ?? "no peer result" },
          fractionOfLibrary: kMs && pMs ? r3(pMs / kMs) : undefined,
          ptxas: report?.ok ? kernels.map((n) => report.kernels.find((r) => r.name === n) ?? { name: n, missing: true }) : { error: report?.error },
        });
        table.push([
          c.name,
          prec,
          `${M}x${N}x${K}`,
          kMs ?? "error",
          tflops(c, kMs) ?? "-",
          pMs ?? "-",
          tflops(c, pMs) ?? "-",
          kMs && pMs ? pMs / kMs : "-",
          ok ? (k.checkOk ? "ok" : `MISMATCH ${k.maxRelErr.toExponential(1)}`) : "error",
          ptxasSummary(kernels, report),
        ]);
      }
    console.log(`GEMM and convolution on ${String(dev.info.name)}: median ms per call (CUDA events; tiny cases back-to-back x inner), copy floor ${floor.copyGBps} GB/s`);
    if (peerReason) console.log(`library peer not run: ${peerReason}`);
    printTable(["case", "prec", "M x N x K", "Kiln ms", "Kiln TFLOP/s", "lib ms", "lib TFLOP/s", "Kiln/lib", "check", "ptxas regs/spill/smem"], table);
    writeResult("gemm_conv", dev, flags, { gpu: true, floor, cases: rows, ptxas: reports, peers: peerEnv ?? { error: peerReason } });
    return;
  }

  // No GPU: compile the CUDA kernels with nvcc and time the same graphs on cpu() at small shapes.
  noGpuNotice("gemm_conv", dev);
  // nvcc first: on a small host it would share the cores with the cpu() timings below.
  const reports = Object.fromEntries(await Promise.all(Object.entries(reportJobs).map(async ([k, p]) => [k, await p] as const)));
  const cpuRows: Record<string, unknown>[] = [];
  const cpuList = cases.map(cpuCase);
  for (const c of cpuList) {
    try {
      const k = runKiln(dev, dev.ctx, c, false, { repeats: Math.min(flags.repeats, 5), warmup: Math.min(flags.warmup, 1) });
      const gf = flopsOf(c) / (k.ms.median * 1e6);
      cpuRows.push({ case: c.name, device: "cpu", sizes: { ...gemmView(c), ...(c.fc ?? c.conv) }, ms: k.ms, gflops: r3(gf), maxRelErr: k.maxRelErr, checkOk: k.checkOk, kernels: k.kernels });
      table.push([c.name, `${gemmView(c).M}x${gemmView(c).N}x${gemmView(c).K}`, k.ms.median, gf, k.checkOk ? "ok" : `MISMATCH ${k.maxRelErr.toExponential(1)}`]);
    } catch (err) {
      cpuRows.push({ case: c.name, device: "cpu", error: String(err).slice(0, 500) });
      table.push([c.name, "-", "error", "-", String(err).slice(0, 60)]);
    }
  }
  console.log("\ncpu() timings of the same graphs (C++ kernels, host clock; NOT GPU numbers):");
  printTable(["case (cpu)", "M x N x K", "ms", "GFLOP/s", "check"], table);
  const ptxasTable = cases.flatMap((c) =>
    precisions.map((tf32) => {
      const prec = tf32 ? "tf32" : "fp32";
      return [c.name, prec, ptxasSummary(caseKernelNames(c), reports[`${c.grad ? "grad" : "forward"} ${prec}`])];
    }),
  );
  console.log("\nnvcc -arch=sm_90 -Xptxas -v of the GPU kernels (registers/spill bytes/shared bytes per kernel):");
  printTable(["case", "prec", "ptxas"], ptxasTable);
  for (const [k, r] of Object.entries(reports)) if (!r.ok) console.log(`ptxas ${k}: ${r.error?.split("\n").slice(0, 3).join(" | ")}`);
  const compile = {
    ok: Object.values(reports).every((r) => r.ok),
    arch: "sm_90",
    modules: reports,
    cases: cases.map((c) => ({ case: c.name, grad: c.grad, kernels: caseKernelNames(c) })),
  };
  writeResult("gemm_conv", dev, flags, { gpu: false, noGpuReason: dev.noGpuReason, floor: { note: "no GPU: no floor measured" }, compile, cpu: cpuRows });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(parseFlags());
