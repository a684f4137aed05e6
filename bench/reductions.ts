/**
 * Reductions and the normalizations built on them, float32: sum and mean over axis 0 (over
 * the rows, one value per column) and axis 1 (over the columns, one per row) of 4096x4096,
 * 16384x1024 and 1024x16384 matrices; softmax and log_softmax over the last axis; BatchNorm in
 * training mode (batch statistics, fix_gamma false) forward, and forward + backward with a
 * random head gradient, on (32,64,56,56) and (128,256,14,14); a LayerNorm-like graph built from
 * sym ops, (x − mean)/sqrt(var + eps)·g + b over the last axis of (8192, 1024).
 * Peers (bench/peers/reductions.py): PyTorch eager, torch.compile on a few cases, CuPy where
 * natural (cupy.sum/cupy.mean), F.layer_norm as the library LayerNorm.
 *
 * Achieved GB/s = bytes that must move (every input read once + every output written once;
 * with backward also the head gradient read and the gradients written) / median time; "of
 * floor" divides it by the device-to-device copy bandwidth. Kiln's outputs (and gradients) are
 * compared with a float64 host computation once per case.
 *
 *   node dist/bench/reductions.js [--quick] [--repeats 20] [--warmup 3] [--no-peers] [--out DIR]
 */
import { pathToFileURL } from "node:url";
import { sym, NDArray, Symbol } from "../index.js";
import type { Executor } from "../index.js";
import type { GradReq } from "../compiler/symbol/binding.js";
import { compileSymbol } from "../runtime/executor/compile_symbol.js";
import {
  BenchDevice,
  BenchFlags,
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
import { Check, checkText, compareWith, disposeExecutor, download, fmtMs, gbps, innerFor, kernelCount, mergeChecks, mustMoveBytes, pct, replayCheck, sampleIndices, upload, warmFlags } from "./elementwise.js";

const EPS = 1e-5;
const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

type Kind = "reduce" | "softmax" | "batchnorm" | "layernorm";

export interface Case {
  id: string;
  kind: Kind;
  /** sum | mean (reduce), softmax | log_softmax (softmax). */
  op?: string;
  axis?: number;
  shape: number[];
  /** BatchNorm: forward + backward. */
  backward: boolean;
  /** Also torch.compile it (a few representative cases). */
  compile: boolean;
}

export function plan(quick: boolean): Case[] {
  const cases: Case[] = [];
  const mats = quick ? [[1024, 1024]] : [[4096, 4096], [16384, 1024], [1024, 16384]];
  for (const shape of mats)
    for (const op of ["sum", "mean"])
      for (const axis of [0, 1])
        cases.push({ id: `${op} axis${axis} ${shape.join("x")}`, kind: "reduce", op, axis, shape, backward: false, compile: op === "sum" && shape === mats[0] });
  const soft = quick ? [[1024, 1024]] : [[8192, 1024], [1024, 16384]];
  for (const shape of soft)
    for (const op of ["softmax", "log_softmax"])
      cases.push({ id: `${op} ${shape.join("x")}`, kind: "softmax", op, axis: -1, shape, backward: false, compile: op === "softmax" && shape === soft[0] });
  const bns = quick ? [[4, 16, 28, 28]] : [[32, 64, 56, 56], [128, 256, 14, 14]];
  for (const shape of bns)
    for (const backward of [false, true])
      cases.push({ id: `BatchNorm ${backward ? "fwd+bwd" : "fwd"} ${shape.join("x")}`, kind: "batchnorm", shape, backward, compile: !backward && shape === bns[0] });
  const ln = quick ? [1024, 1024] : [8192, 1024];
  cases.push({ id: `LayerNorm-like ${ln.join("x")}`, kind: "layernorm", shape: ln, backward: false, compile: true });
  return cases;
}

/** The case's graph, its input shapes and whether it runs in training mode. */
function build(c: Case, p = ""): { net: Symbol; shapes: Record<string, number[]>; train: boolean; gradReq: GradReq } {
  const x = sym.Variable(`${p}x`);
  const last = c.shape[c.shape.length - 1];
  switch (c.kind) {
    case "reduce": {
      const f = c.op === "sum" ? sym.sum : sym.mean;
      return { net: f({ data: x, axis: [c.axis!] }), shapes: { [`${p}x`]: c.shape }, train: false, gradReq: "null" };
    }
    case "softmax": {
      const f = c.op === "softmax" ? sym.softmax : sym.log_softmax;
      return { net: f({ data: x, axis: -1 }), shapes: { [`${p}x`]: c.shape }, train: false, gradReq: "null" };
    }
    case "batchnorm":
      return {
        net: sym.BatchNorm({ data: x, fix_gamma: false, eps: EPS, momentum: 0.9, name: `${p}bn` }),
        shapes: { [`${p}x`]: c.shape },
        train: true,
        gradReq: c.backward ? "write" : "null",
      };
    case "layernorm": {
      const g = sym.Variable(`${p}g`);
      const b = sym.Variable(`${p}b`);
      const mean = sym.mean({ data: x, axis: [-1], keepdims: true });
      const xc = sym.broadcast_sub({ lhs: x, rhs: mean });
      const variance = sym.mean({ data: sym.square({ data: xc }), axis: [-1], keepdims: true });
      const norm = sym.broadcast_div({ lhs: xc, rhs: sym.sqrt({ data: variance.plus(EPS) }) });
      const net = sym.broadcast_add({ lhs: sym.broadcast_mul({ lhs: norm, rhs: g }), rhs: b });
      return { net, shapes: { [`${p}x`]: c.shape, [`${p}g`]: [1, last], [`${p}b`]: [1, last] }, train: false, gradReq: "null" };
    }
  }
}

/** Random inputs of a case (reductions: positive, so that float32 sums do not cancel). */
function inputsOf(c: Case): Record<string, Float32Array> {
  const n = size(c.shape);
  const last = c.shape[c.shape.length - 1];
  switch (c.kind) {
    case "reduce":
      return { x: randomArray(n, 11, 0.5, 1.5) };
    case "softmax":
      return { x: randomArray(n, 12, -4, 4) };
    case "batchnorm":
      return { x: randomArray(n, 13, -1, 2), bn_gamma: randomArray(c.shape[1], 14, 0.5, 1.5), bn_beta: randomArray(c.shape[1], 15, -0.5, 0.5) };
    case "layernorm":
      return { x: randomArray(n, 16, -1, 2), g: randomArray(last, 17, 0.5, 1.5), b: randomArray(last, 18, -0.5, 0.5) };
  }
}

// ------------------------------------------------------------------------------------------
// Host (float64) references
// ------------------------------------------------------------------------------------------

function checkReduce(c: Case, x: Float32Array, got: Float32Array): Check {
  const [R, C] = c.shape;
  const outLen = c.axis === 0 ? C : R;
  const want = new Float64Array(outLen);
  for (let r = 0; r < R; r++)
    for (let k = 0; k < C; k++) want[c.axis === 0 ? k : r] += x[r * C + k];
  if (c.op === "mean") for (let i = 0; i < outLen; i++) want[i] /= c.axis === 0 ? R : C;
  return compareWith(got, (i) => want[i], { rtol: 2e-4, atol: 0 });
}

/** Rows of the last axis: calls f(row start, row length). */
function forRows(shape: number[], f: (start: number, len: number) => void): void {
  const len = shape[shape.length - 1];
  const rows = size(shape) / len;
  for (let r = 0; r < rows; r++) f(r * len, len);
}

function checkSoftmax(c: Case, x: Float32Array, got: Float32Array): Check {
  const want = new Float64Array(x.length);
  forRows(c.shape, (s, len) => {
    let m = -Infinity;
    for (let j = 0; j < len; j++) m = Math.max(m, x[s + j]);
    let z = 0;
    for (let j = 0; j < len; j++) z += Math.exp(x[s + j] - m);
    for (let j = 0; j < len; j++) want[s + j] = c.op === "softmax" ? Math.exp(x[s + j] - m) / z : x[s + j] - m - Math.log(z);
  });
  return compareWith(got, (i) => want[i], { rtol: 1e-4, atol: 1e-7, indices: sampleIndices(x.length) });
}

function checkLayerNorm(c: Case, v: Record<string, Float32Array>, got: Float32Array): Check {
  const { x, g, b } = v;
  const want = new Float64Array(x.length);
  forRows(c.shape, (s, len) => {
    let m = 0;
    for (let j = 0; j < len; j++) m += x[s + j];
    m /= len;
    let q = 0;
    for (let j = 0; j < len; j++) q += (x[s + j] - m) ** 2;
    const inv = 1 / Math.sqrt(q / len + EPS);
    for (let j = 0; j < len; j++) want[s + j] = (x[s + j] - m) * inv * g[j] + b[j];
  });
  return compareWith(got, (i) => want[i], { rtol: 1e-4, atol: 1e-4, indices: sampleIndices(x.length) });
}

/** BatchNorm training forward (batch statistics) and, given dy, its gradients: float64. */
function batchNormHost(shape: number[], v: Record<string, Float32Array>, dy?: Float32Array) {
  const [N, C] = shape;
  const HW = size(shape.slice(2));
  const M = N * HW;
  const { x, bn_gamma: gamma, bn_beta: beta } = v;
  const mean = new Float64Array(C);
  const invstd = new Float64Array(C);
  for (let n = 0; n < N; n++)
    for (let ch = 0; ch < C; ch++) {
      const o = (n * C + ch) * HW;
      let s = 0;
      for (let k = 0; k < HW; k++) s += x[o + k];
      mean[ch] += s;
    }
  for (let ch = 0; ch < C; ch++) mean[ch] /= M;
  const q = new Float64Array(C);
  for (let n = 0; n < N; n++)
    for (let ch = 0; ch < C; ch++) {
      const o = (n * C + ch) * HW;
      let s = 0;
      for (let k = 0; k < HW; k++) s += (x[o + k] - mean[ch]) ** 2;
      q[ch] += s;
    }
  for (let ch = 0; ch < C; ch++) invstd[ch] = 1 / Math.sqrt(q[ch] / M + EPS);
  const chan = (i: number): number => Math.floor(i / HW) % C;
  const xhat = (i: number): number => (x[i] - mean[chan(i)]) * invstd[chan(i)];
  const y = (i: number): number => xhat(i) * gamma[chan(i)] + beta[chan(i)];
  if (!dy) return { y, chan, M };
  const dbeta = new Float64Array(C);
  const dgamma = new Float64Array(C);
  const absDy = new Float64Array(C);
  const absDyXhat = new Float64Array(C);
  for (let i = 0; i < x.length; i++) {
    const ch = chan(i);
    const h = xhat(i);
    dbeta[ch] += dy[i];
    dgamma[ch] += dy[i] * h;
    absDy[ch] += Math.abs(dy[i]);
    absDyXhat[ch] += Math.abs(dy[i] * h);
  }
  const dx = (i: number): number => {
    const ch = chan(i);
    return gamma[ch] * invstd[ch] * (dy[i] - dbeta[ch] / M - xhat(i) * (dgamma[ch] / M));
  };
  return { y, chan, M, dx, dgamma, dbeta, absDy, absDyXhat };
}

function checkBatchNorm(c: Case, v: Record<string, Float32Array>, exe: Executor, dy?: Float32Array): Check {
  const h = batchNormHost(c.shape, v, dy);
  const idx = sampleIndices(v.x.length);
  const checks = [compareWith(download(exe.outputs[0]), h.y, { rtol: 1e-4, atol: 1e-4, indices: idx })];
  if (dy && h.dx) {
    checks.push(compareWith(download(exe.gradDict.x), h.dx, { rtol: 1e-3, atol: 1e-4, indices: idx }));
    // Float32 sums over M terms: the error scales with the sum of the terms' magnitudes.
    checks.push(compareWith(download(exe.gradDict.bn_beta), (i) => h.dbeta[i], { rtol: 1e-4, atolAt: (i) => 1e-6 * h.absDy[i] + 1e-5 }));
    checks.push(compareWith(download(exe.gradDict.bn_gamma), (i) => h.dgamma[i], { rtol: 1e-4, atolAt: (i) => 1e-6 * h.absDyXhat[i] + 1e-5 }));
  }
  return mergeChecks(checks);
}

// ------------------------------------------------------------------------------------------
// Running
// ------------------------------------------------------------------------------------------

interface KilnRun {
  ms: Stats;
  bytes: number;
  gbps: number;
  ofFloor: number;
  kernels: number;
  check: Check;
}

function runKiln(dev: BenchDevice, flags: BenchFlags, c: Case, floor: number): KilnRun {
  const { net, shapes, train, gradReq } = build(c);
  const exe = net.simpleBind({ ctx: dev.ctx, shapes, gradReq });
  let dyNd: NDArray | undefined;
  try {
    const v = inputsOf(c);
    for (const [name, values] of Object.entries(v)) upload(exe.argDict[name], values);
    for (const [name, a] of Object.entries(exe.auxDict)) a.set(name.endsWith("_var") ? 1 : 0);
    let dy: Float32Array | undefined;
    if (c.backward) {
      dy = randomArray(size(exe.outputs[0].shape), 19, -1, 1);
      dyNd = new NDArray(exe.outputs[0].shape, "float32", dev.ctx);
      upload(dyNd, dy);
    }
    const step = (): void => {
      exe.forward(train);
      if (dyNd) exe.backward(dyNd);
    };
    step();
    const got = download(exe.outputs[0]);
    const firstDx = c.backward ? download(exe.gradDict.x) : undefined;
    const check =
      c.kind === "reduce"
        ? checkReduce(c, v.x, got)
        : c.kind === "softmax"
          ? checkSoftmax(c, v.x, got)
          : c.kind === "layernorm"
            ? checkLayerNorm(c, v, got)
            : checkBatchNorm(c, v, exe, dy);
    const bytes = mustMoveBytes(exe, c.backward);
    const ms = timeRuns(dev, step, warmFlags(dev, flags), innerFor(dev, bytes));
    check.replay = replayCheck(got, download(exe.outputs[0]));
    if (firstDx) {
      const dx = replayCheck(firstDx, download(exe.gradDict.x));
      check.replay = { ok: check.replay.ok && dx.ok, maxAbsDiff: Math.max(check.replay.maxAbsDiff, dx.maxAbsDiff) };
    }
    const rate = gbps(bytes, ms.median);
    return { ms, bytes, gbps: rate, ofFloor: rate / floor, kernels: kernelCount(exe), check };
  } finally {
    dyNd?.dispose();
    disposeExecutor(exe);
  }
}

interface PeerTimes {
  eager?: Stats;
  compiled?: Stats;
  compileSeconds?: number;
  cupy?: Stats;
  native?: Stats;
  maxAbsErr?: Record<string, number>;
  errors?: Record<string, string>;
}

/**
 * Every case's kernels as one CUDA module (one nvcc run: ptxas -v for sm_90), compiled as a
 * training program where only the BatchNorm fwd+bwd cases ask for gradients (the other cases'
 * kernels are those of inference); each case's kernels are picked out of the report by name.
 */
function ptxasModule(cs: Case[]): Record<string, unknown> {
  if (!findNvcc()) return { arch: "sm_90", ok: false, error: "nvcc not found", kernels: [], cases: cs.map((c) => ({ id: c.id, kernels: [] })) };
  // Distinct variable names keep the cases' graphs apart inside one Group.
  const built = cs.map((c, k) => build(c, `c${k}_`));
  const shapes: Record<string, number[]> = {};
  const gradReq: Record<string, GradReq> = {};
  for (const b of built) {
    Object.assign(shapes, b.shapes);
    for (const a of b.net.listArguments()) gradReq[a] = b.gradReq;
  }
  const r = compileCheckCuda(sym.Group(built.map((b) => b.net)), { shapes, isTrain: true, gradReq, arch: "sm_90" });
  const cases = cs.map((c, k) => {
    const b = built[k];
    const names = compileSymbol(b.net, { shapes: b.shapes, isTrain: true, gradReq: b.gradReq }).kernels.map((q) => q.name);
    return { id: c.id, kernels: r.kernels.filter((q) => names.includes(q.name)), missing: names.filter((n) => !r.kernels.some((q) => q.name === n)) };
  });
  return { arch: "sm_90", ...r, cases };
}

export async function run(flags: BenchFlags): Promise<void> {
  const t0 = performance.now();
  const phase: Record<string, number> = {};
  const lap = (name: string): void => {
    phase[name] = +((performance.now() - t0) / 1000 - Object.values(phase).reduce((a, b) => a + b, 0)).toFixed(2);
  };
  const dev = benchDevice();
  if (!dev.gpu) noGpuNotice("reductions", dev);
  // Without a GPU, Kiln's C++ is timed at the quick sizes; the CUDA kernels are compile-checked at the plan's sizes.
  const cases = plan(flags.quick || !dev.gpu);
  const checked = plan(flags.quick);
  const floor = dev.gpu ? copyBandwidth(dev) : copyBandwidth(dev, 1 << 24, { repeats: Math.max(3, flags.repeats), warmup: 1 });
  console.log(`floor: ${dev.gpu ? "device-to-device copy" : "host typed-array copy (cpu stand-in)"} ${floor.gbps.toFixed(1)} GB/s (read + write)`);

  lap("setup");
  const kiln = cases.map((c) => runKiln(dev, flags, c, floor.gbps));
  lap("kiln");

  const spec = {
    eps: EPS,
    cases: cases.map((c, i) => ({ id: c.id, kind: c.kind, op: c.op ?? null, axis: c.axis ?? null, shape: c.shape, backward: c.backward, compile: c.compile, inner: innerFor(dev, kiln[i].bytes) })),
  };
  const peer = runPeer("reductions", spec, flags);
  lap("peers");
  if (!peer.ok) console.log(`peers: not run (${peer.reason})`);
  const peerOf = (id: string): PeerTimes => (peer.ok ? ((peer.results.find((r) => r.id === id) as PeerTimes | undefined) ?? {}) : {});

  const rows = cases.map((c, i) => {
    const k = kiln[i];
    const p = peerOf(c.id);
    const side = (s?: Stats, extra: Record<string, unknown> = {}): Record<string, unknown> | undefined =>
      s && { ms: s, gbps: gbps(k.bytes, s.median), ofFloor: gbps(k.bytes, s.median) / floor.gbps, ...extra };
    return {
      id: c.id,
      kind: c.kind,
      op: c.op,
      axis: c.axis,
      shape: c.shape,
      backward: c.backward,
      bytes: k.bytes,
      kiln: k,
      peers: {
        torchEager: side(p.eager),
        torchCompile: side(p.compiled, { compileSeconds: p.compileSeconds }),
        cupy: side(p.cupy),
        torchNative: side(p.native, { what: "F.layer_norm" }),
        maxAbsErrVsFloat64: p.maxAbsErr,
        errors: p.errors,
      },
      kilnSpeedupVsTorchEager: p.eager ? p.eager.median / k.ms.median : undefined,
      kilnSpeedupVsTorchCompile: p.compiled ? p.compiled.median / k.ms.median : undefined,
      kilnSpeedupVsCupy: p.cupy ? p.cupy.median / k.ms.median : undefined,
      kilnSpeedupVsTorchNative: p.native ? p.native.median / k.ms.median : undefined,
    };
  });

  const unit = dev.gpu ? "gpu" : "cpu";
  console.log(`\nReductions on ${dev.gpu ? String(dev.info.name) : `cpu() (${String(dev.info.name)}): Kiln's generated C++, quick sizes`}; ms = median, GB/s = must-move bytes / median\n`);
  printTable(
    ["case", "MB", "kernels", `kiln ms (${unit})`, "GB/s", "of floor", "torch ms", "compile ms", "cupy ms", "F.layer_norm ms", "kiln speedup vs torch", "check"],
    cases.map((c, i) => {
      const k = kiln[i];
      const p = peerOf(c.id);
      return [
        c.id,
        k.bytes / 1e6,
        String(k.kernels),
        k.ms.median,
        k.gbps,
        pct(k.ofFloor),
        fmtMs(p.eager),
        fmtMs(p.compiled),
        fmtMs(p.cupy),
        fmtMs(p.native),
        p.eager ? `${(p.eager.median / k.ms.median).toFixed(2)}x` : "-",
        checkText(k.check),
      ];
    }),
  );

  // ptxas: every case's kernels at the plan's sizes, one module (one nvcc run).
  const ptxas = ptxasModule(checked);
  const all = ptxas.kernels as { registers: number; spillBytes: number }[];
  console.log(
    `\nptxas (sm_90): ${ptxas.ok ? "module compiled" : "FAILED"}, ${all.length} kernels, max ${Math.max(0, ...all.map((k) => k.registers))} registers, ${all.reduce((q, k) => q + k.spillBytes, 0)} spill bytes`,
  );
  if (!ptxas.ok) console.log(`  ${String(ptxas.error).split("\n").slice(0, 5).join(" | ")}`);

  lap("ptxas");
  console.log(`seconds: ${Object.entries(phase).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  writeResult("reductions", dev, flags, {
    gpu: dev.gpu,
    timedOn: dev.gpu ? "gpu" : "cpu (Kiln's generated C++ at the quick sizes; the CUDA kernels are compile-checked only)",
    noGpuReason: dev.noGpuReason,
    floor: { what: dev.gpu ? "device-to-device copy, read + write counted" : "host typed-array copy (cpu stand-in)", gbps: floor.gbps, bytes: floor.bytes, ms: floor.ms },
    bytesRule:
      "every argument and aux state read once + every output written once; with backward also the head gradient read and every gradient written (float32). " +
      "Kiln's fwd+bwd time includes exe.backward copying the head gradient into its own buffer.",
    eps: EPS,
    peers: peer.ok ? { ok: true, env: peer.env } : { ok: false, reason: peer.reason },
    cases: rows,
    ptxas,
    seconds: phase,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(parseFlags());
