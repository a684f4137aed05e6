/**
 * Fused elementwise and broadcast chains: the memory-bound case fusion exists for. A chain of
 * 2, 4, 8 or 16 ops (mul/add with x or a scalar, sigmoid, tanh, exp) on one float32 input x of
 * 2^20, 2^24 and 2^26 elements (the 2-op chain also at 2^28), and a broadcast chain on
 * x (rows, 1024) with a scale g and a bias b of (1, 1024). Columns: Kiln fused, Kiln unfused
 * (compile: {fuse: false}), PyTorch eager, torch.compile (largest size of each chain), CuPy
 * ElementwiseKernel of the same expression. The chain is written once, as a list of op names
 * (CHAIN16, BCAST) that bench/peers/elementwise.py maps to torch and CuPy code.
 *
 * Achieved GB/s = bytes that must move (every input read once + the output written once) /
 * median time; "of floor" divides it by the device-to-device copy bandwidth (harness).
 * Kiln's output is compared with a float64 host computation of the same chain once per case.
 *
 *   node dist/bench/elementwise.js [--quick] [--repeats 20] [--warmup 3] [--no-peers] [--out DIR]
 */
import { pathToFileURL } from "node:url";
import { sym, NDArray } from "../index.js";
import type { Symbol, Executor } from "../index.js";
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

// ------------------------------------------------------------------------------------------
// Helpers shared with bench/reductions.ts
// ------------------------------------------------------------------------------------------

/** Copies float32 values into an array (bytes, no per-element conversion). */
export function upload(a: NDArray, v: Float32Array): void {
  a.setBytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
}

/** An array's float32 values on the host (synchronizes with the device). */
export function download(a: NDArray): Float32Array {
  const b = a.toBytes();
  return b.byteOffset % 4 === 0 ? new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4) : new Float32Array(b.slice().buffer);
}

/** Frees an executor's programs and arrays now rather than at garbage collection. */
export function disposeExecutor(exe: Executor): void {
  (exe as { dispose?(): void }).dispose?.();
  for (const a of [...exe.argArrays, ...exe.auxArrays, ...exe.outputs, ...exe.gradArrays]) a?.dispose();
}

/** Kernel launches of the program the executor ran (forward and, when trained, backward). */
export function kernelCount(exe: Executor): number {
  return ((exe as { kernels?: unknown[] }).kernels ?? []).length;
}

/** The result of comparing Kiln's values with a host computation. */
export interface Check {
  ok: boolean;
  /** Largest |kiln − host| / (atol + rtol·|host|): at most 1 passes. */
  worst: number;
  maxAbsErr: number;
  checked: number;
  /** First failing index and values, when any. */
  firstBad?: { index: number; kiln: number; host: number };
  /** The output after the timed runs against the first run's (replayCheck). */
  replay?: { ok: boolean; maxAbsDiff: number };
}

/** ok when Kiln matched the host and the timed runs left the first run's values. */
export const checkOk = (c: Check): boolean => c.ok && (c.replay?.ok ?? true);
export const checkText = (c: Check): string => (checkOk(c) ? "ok" : !c.ok ? `MISMATCH (${c.worst})` : `REPLAY DIFFERS (${c.replay!.maxAbsDiff})`);

/** Indices to check: all of them up to 2^20, else 2^18 spread over the array (varying offsets) and the last. */
export function sampleIndices(n: number): number[] | undefined {
  if (n <= 1 << 20) return undefined;
  const k = 1 << 18;
  const stride = Math.floor(n / k);
  const out: number[] = [];
  for (let j = 0; j < k; j++) out.push(j * stride + ((j * 7919) % stride));
  out.push(n - 1);
  return out;
}

/** Compares got[i] with want(i) for the given indices (all when undefined): |d| ≤ atol + rtol·|want|. */
export function compareWith(
  got: Float32Array,
  want: (i: number) => number,
  opts: { indices?: number[]; atol?: number; rtol?: number; atolAt?: (i: number) => number } = {},
): Check {
  const rtol = opts.rtol ?? 1e-4;
  const atolAt = opts.atolAt ?? ((): number => opts.atol ?? 1e-5);
  let worst = 0;
  let maxAbsErr = 0;
  let checked = 0;
  let firstBad: Check["firstBad"];
  const one = (i: number): void => {
    const w = want(i);
    const d = Math.abs(got[i] - w);
    const r = d / (atolAt(i) + rtol * Math.abs(w));
    checked++;
    if (!(d <= maxAbsErr)) maxAbsErr = Number.isNaN(d) ? Infinity : Math.max(maxAbsErr, d);
    if (!(r <= worst)) {
      worst = Number.isNaN(r) ? Infinity : r;
      if (!(r <= 1) && !firstBad) firstBad = { index: i, kiln: got[i], host: w };
    }
  };
  if (opts.indices) for (const i of opts.indices) one(i);
  else for (let i = 0; i < got.length; i++) one(i);
  return { ok: worst <= 1, worst: +worst.toPrecision(3), maxAbsErr: +maxAbsErr.toPrecision(3), checked, firstBad };
}

/**
 * The output after the timed runs (on a GPU: CUDA-graph replays) against the first run's:
 * equal up to reduction order (atomics may sum in another order).
 */
export function replayCheck(first: Float32Array, again: Float32Array): { ok: boolean; maxAbsDiff: number } {
  let ok = first.length === again.length;
  let maxAbsDiff = 0;
  for (let i = 0; i < first.length && i < again.length; i++) {
    const d = Math.abs(first[i] - again[i]);
    if (!(d <= 1e-5 * (1 + Math.abs(first[i])))) ok = false;
    if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
  }
  return { ok, maxAbsDiff };
}

/** Several checks as one: ok when all are, worst and largest error of all. */
export function mergeChecks(checks: Check[]): Check {
  return {
    ok: checks.every((c) => c.ok),
    worst: Math.max(...checks.map((c) => c.worst)),
    maxAbsErr: Math.max(...checks.map((c) => c.maxAbsErr)),
    checked: checks.reduce((s, c) => s + c.checked, 0),
    firstBad: checks.find((c) => c.firstBad)?.firstBad,
  };
}

/** Bytes of an array. */
const bytesOf = (a: NDArray | null | undefined): number => (a ? a.byteLength : 0);

/**
 * Bytes that must move for one run of the executor's program: every argument and aux state
 * read once, every output (and, with backward, every gradient) written once, head gradients
 * read once.
 */
export function mustMoveBytes(exe: Executor, withBackward = false): number {
  let b = 0;
  for (const a of exe.argArrays) b += bytesOf(a);
  for (const a of exe.auxArrays) b += bytesOf(a);
  for (const a of exe.outputs) b += bytesOf(a) * (withBackward ? 2 : 1); // output + its head gradient
  if (withBackward) for (const a of exe.gradArrays) b += bytesOf(a);
  return b;
}

/** GB/s for `bytes` moved in `ms`. */
export const gbps = (bytes: number, ms: number): number => bytes / (ms * 1e6);

/** Repeats inside one timed sample so that a sample lasts ~≥ 50 µs on a GPU. */
export const innerFor = (dev: BenchDevice, bytes: number): number => (dev.gpu ? Math.max(1, Math.min(50, Math.round((1 << 27) / Math.max(1, bytes)))) : 1);

/** Warm-up of at least 3 on a GPU: run 1 launches kernel by kernel, run 2 captures the CUDA graph. */
export const warmFlags = (dev: BenchDevice, flags: BenchFlags): { repeats: number; warmup: number } => ({
  repeats: Math.max(1, flags.repeats),
  warmup: dev.gpu ? Math.max(3, flags.warmup) : flags.warmup,
});

export const fmtMs = (s: Stats | undefined): string | number => (s ? s.median : "-");
export const pct = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? "-" : `${(100 * x).toFixed(0)}%`);

// ------------------------------------------------------------------------------------------
// The chains
// ------------------------------------------------------------------------------------------

/** Scalars of the scalar ops (sent to the peers with the spec). */
export const CONSTANTS = { mul_s: 1.5, add_s: 0.25 };

interface OpRow {
  kiln(y: Symbol, v: { x: Symbol; g: Symbol; b: Symbol }): Symbol;
  host(y: number, x: number, g: number, b: number): number;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** Each op maps the running value y (x at the start); peers implement the same names. */
export const OPS: Record<string, OpRow> = {
  mul_x: { kiln: (y, v) => y.mul(v.x), host: (y, x) => y * x },
  add_x: { kiln: (y, v) => y.plus(v.x), host: (y, x) => y + x },
  mul_s: { kiln: (y) => y.mul(CONSTANTS.mul_s), host: (y) => y * CONSTANTS.mul_s },
  add_s: { kiln: (y) => y.plus(CONSTANTS.add_s), host: (y) => y + CONSTANTS.add_s },
  sigmoid: { kiln: (y) => sym.sigmoid({ data: y }), host: (y) => sigmoid(y) },
  tanh: { kiln: (y) => sym.tanh({ data: y }), host: (y) => Math.tanh(y) },
  exp: { kiln: (y) => sym.exp({ data: y }), host: (y) => Math.exp(y) },
  mul_g: { kiln: (y, v) => sym.broadcast_mul({ lhs: y, rhs: v.g }), host: (y, _x, g) => y * g },
  add_b: { kiln: (y, v) => sym.broadcast_add({ lhs: y, rhs: v.b }), host: (y, _x, _g, b) => y + b },
};

/** The 16-op chain; a chain of n ops is its first n (values stay bounded for x in [-1, 1)). */
export const CHAIN16 = ["mul_x", "sigmoid", "add_s", "tanh", "mul_s", "exp", "add_x", "sigmoid", "mul_x", "tanh", "add_s", "exp", "mul_s", "sigmoid", "add_x", "tanh"];
/** The broadcast chain on x (rows, COLS): tanh(x·g + b)·x. */
export const BCAST = ["mul_g", "add_b", "tanh", "mul_x"];
const COLS = 1024;

export interface Case {
  id: string;
  chain: string;
  ops: string[];
  n: number;
  broadcast: boolean;
  /** x's shape; g and b are (1, cols) when broadcast. */
  shape: number[];
  /** torch.compile this case (largest size of each chain). */
  compile: boolean;
}

/** The chain as a graph; `p` prefixes the variable names (several chains in one Group). */
function buildChain(ops: string[], p = ""): Symbol {
  const v = { x: sym.Variable(`${p}x`), g: sym.Variable(`${p}g`), b: sym.Variable(`${p}b`) };
  let y = v.x;
  for (const op of ops) y = OPS[op].kiln(y, v);
  return y;
}

function shapesOf(c: Case, p = ""): Record<string, number[]> {
  const shapes: Record<string, number[]> = { [`${p}x`]: c.shape };
  if (c.broadcast) Object.assign(shapes, { [`${p}g`]: [1, COLS], [`${p}b`]: [1, COLS] });
  return shapes;
}

/**
 * ptxas's report (sm_90) for the kernels of several chains, compiled as one CUDA module (one
 * nvcc run), with each chain's kernels picked out by name.
 */
function ptxasGroup(cs: Case[], fuse: boolean): Record<string, unknown> {
  const group = { group: fuse ? "fused" : "unfused", fuse, arch: "sm_90" };
  if (!findNvcc()) return { ...group, ok: false, error: "nvcc not found", kernels: [], chains: [] };
  const shapes: Record<string, number[]> = {};
  cs.forEach((c, k) => Object.assign(shapes, shapesOf(c, `c${k}_`)));
  const r = compileCheckCuda(sym.Group(cs.map((c, k) => buildChain(c.ops, `c${k}_`))), { shapes, fuse, arch: "sm_90" });
  const chains = cs.map((c, k) => {
    const names = compileSymbol(buildChain(c.ops, `c${k}_`), { shapes: shapesOf(c, `c${k}_`), fuse }).kernels.map((q) => q.name);
    return { chain: c.chain, shape: c.shape, kernels: r.kernels.filter((q) => names.includes(q.name)) };
  });
  return { ...group, ...r, chains };
}

export function plan(quick: boolean, gpu: boolean): Case[] {
  const lengths = quick ? [2, 8] : [2, 4, 8, 16];
  let sizes = quick ? [16, 20] : [20, 24, 26];
  // Without a GPU only the cheap sizes are timed (on cpu()); the CUDA kernels are compile-checked.
  if (!gpu) sizes = sizes.filter((s) => s === 20);
  const cases: Case[] = [];
  const add = (chain: string, ops: string[], exps: number[], broadcast: boolean): void => {
    const top = Math.max(...exps);
    for (const e of exps) {
      const n = 2 ** e;
      cases.push({ id: `${chain} 2^${e}`, chain, ops, n, broadcast, shape: broadcast ? [n / COLS, COLS] : [n], compile: e === top && !broadcast });
    }
  };
  for (const len of lengths) add(`chain${len}`, CHAIN16.slice(0, len), len === 2 && gpu && !quick ? [...sizes, 28] : sizes, false);
  add("bcast4", BCAST, sizes, true);
  return cases;
}

interface KilnRun {
  ms: Stats;
  gbps: number;
  ofFloor: number;
  kernels: number;
  check: Check;
}

/** x of n elements in [-1, 1), kept for the next case of the same size (2^28 values take seconds to draw). */
let lastX: Float32Array | undefined;
function inputX(n: number): Float32Array {
  if (lastX?.length !== n) lastX = randomArray(n, 1, -1, 1);
  return lastX;
}

function runKiln(dev: BenchDevice, flags: BenchFlags, c: Case, fuse: boolean, floor: number, bytes: { value: number }): KilnRun {
  const exe = buildChain(c.ops).simpleBind({ ctx: dev.ctx, shapes: shapesOf(c), gradReq: "null", compile: { fuse } });
  try {
    const x = inputX(c.n);
    const g = randomArray(COLS, 2, 0.5, 1.5);
    const b = randomArray(COLS, 3, -0.5, 0.5);
    upload(exe.argDict.x, x);
    if (c.broadcast) {
      upload(exe.argDict.g, g);
      upload(exe.argDict.b, b);
    }
    exe.forward(false);
    const got = download(exe.outputs[0]);
    const check = compareWith(
      got,
      (i) => {
        const col = c.broadcast ? i % COLS : 0;
        let y = x[i];
        for (const op of c.ops) y = OPS[op].host(y, x[i], g[col], b[col]);
        return y;
      },
      { indices: sampleIndices(c.n) },
    );
    bytes.value = mustMoveBytes(exe);
    const inner = innerFor(dev, bytes.value);
    const ms = timeRuns(dev, () => exe.forward(false), warmFlags(dev, flags), inner);
    check.replay = replayCheck(got, download(exe.outputs[0]));
    const rate = gbps(bytes.value, ms.median);
    return { ms, gbps: rate, ofFloor: rate / floor, kernels: kernelCount(exe), check };
  } finally {
    disposeExecutor(exe);
  }
}

interface PeerTimes {
  eager?: Stats;
  compiled?: Stats;
  compileSeconds?: number;
  cupy?: Stats;
  maxAbsErr?: Record<string, number>;
  errors?: Record<string, string>;
}

export async function run(flags: BenchFlags): Promise<void> {
  const t0 = performance.now();
  const phase: Record<string, number> = {};
  const lap = (name: string): void => {
    phase[name] = +((performance.now() - t0) / 1000 - Object.values(phase).reduce((a, b) => a + b, 0)).toFixed(2);
  };
  const dev = benchDevice();
  if (!dev.gpu) noGpuNotice("elementwise", dev);
  const cases = plan(flags.quick, dev.gpu);
  const floor = dev.gpu ? copyBandwidth(dev) : copyBandwidth(dev, 1 << 24, { repeats: Math.max(3, flags.repeats), warmup: 1 });
  console.log(`floor: ${dev.gpu ? "device-to-device copy" : "host typed-array copy (cpu stand-in)"} ${floor.gbps.toFixed(1)} GB/s (read + write)`);

  lap("setup");
  const rows: Record<string, unknown>[] = [];
  // Run by size (each input drawn once), report in plan order.
  const byId = new Map<string, { c: Case; bytes: number; fused: KilnRun; unfused: KilnRun }>();
  for (const c of [...cases].sort((a, b) => a.n - b.n)) {
    const bytes = { value: 0 };
    const fused = runKiln(dev, flags, c, true, floor.gbps, bytes);
    const unfused = runKiln(dev, flags, c, false, floor.gbps, bytes);
    byId.set(c.id, { c, bytes: bytes.value, fused, unfused });
  }
  lastX = undefined;
  const results = cases.map((c) => byId.get(c.id)!);
  lap("kiln");

  const spec = {
    constants: CONSTANTS,
    cases: results.map(({ c, bytes }) => ({ id: c.id, ops: c.ops, shape: c.shape, bshape: c.broadcast ? [COLS] : null, compile: c.compile, inner: innerFor(dev, bytes) })),
  };
  const peer = runPeer("elementwise", spec, flags);
  lap("peers");
  if (!peer.ok) console.log(`peers: not run (${peer.reason})`);
  const peerOf = (id: string): PeerTimes => (peer.ok ? ((peer.results.find((r) => r.id === id) as PeerTimes | undefined) ?? {}) : {});

  for (const { c, bytes, fused, unfused } of results) {
    const p = peerOf(c.id);
    const rate = (s?: Stats): number | undefined => (s ? gbps(bytes, s.median) : undefined);
    rows.push({
      id: c.id,
      chain: c.chain,
      ops: c.ops,
      elements: c.n,
      shape: c.shape,
      broadcast: c.broadcast,
      bytes,
      kiln: { fused, unfused },
      peers: {
        torchEager: p.eager && { ms: p.eager, gbps: rate(p.eager), ofFloor: rate(p.eager)! / floor.gbps },
        torchCompile: p.compiled && { ms: p.compiled, gbps: rate(p.compiled), ofFloor: rate(p.compiled)! / floor.gbps, compileSeconds: p.compileSeconds },
        cupy: p.cupy && { ms: p.cupy, gbps: rate(p.cupy), ofFloor: rate(p.cupy)! / floor.gbps },
        maxAbsErrVsFloat64: p.maxAbsErr,
        errors: p.errors,
      },
      fusedSpeedupVsTorchEager: p.eager ? p.eager.median / fused.ms.median : undefined,
      fusedSpeedupVsTorchCompile: p.compiled ? p.compiled.median / fused.ms.median : undefined,
      fusedSpeedupVsCupy: p.cupy ? p.cupy.median / fused.ms.median : undefined,
    });
  }

  const unit = dev.gpu ? "gpu" : "cpu";
  console.log(`\nElementwise chains on ${dev.gpu ? String(dev.info.name) : `cpu() (${String(dev.info.name)}): Kiln's generated C++, no peers`}; ms = median, GB/s = must-move bytes / median\n`);
  printTable(
    ["case", "MB", "kern F/U", `fused ms (${unit})`, "GB/s", "of floor", "unfused ms", "of floor", "torch ms", "compile ms", "cupy ms", "fused speedup vs torch", "check"],
    results.map(({ c, bytes, fused, unfused }) => {
      const p = peerOf(c.id);
      return [
        c.id,
        bytes / 1e6,
        `${fused.kernels}/${unfused.kernels}`,
        fused.ms.median,
        fused.gbps,
        pct(fused.ofFloor),
        unfused.ms.median,
        pct(unfused.ofFloor),
        fmtMs(p.eager),
        fmtMs(p.compiled),
        fmtMs(p.cupy),
        p.eager ? `${(p.eager.median / fused.ms.median).toFixed(2)}x` : "-",
        checkOk(fused.check) && checkOk(unfused.check) ? "ok" : `fused ${checkText(fused.check)}, unfused ${checkText(unfused.check)}`,
      ];
    }),
  );

  // ptxas: every chain's kernels at its largest size, fused (and unfused without a GPU): one nvcc run each.
  const largest = [...new Set(cases.map((c) => c.chain))].map((chain) => cases.filter((d) => d.chain === chain).pop()!);
  const ptxas = (dev.gpu ? [true] : [true, false]).map((fuse) => ptxasGroup(largest, fuse));
  const all = ptxas.flatMap((p) => (p.kernels as { registers: number; spillBytes: number }[] | undefined) ?? []);
  console.log(
    `\nptxas (sm_90): ${ptxas.filter((p) => p.ok).length}/${ptxas.length} modules compiled, ${all.length} kernels, max ${Math.max(0, ...all.map((k) => k.registers))} registers, ${all.reduce((q, k) => q + k.spillBytes, 0)} spill bytes`,
  );
  for (const p of ptxas.filter((q) => !q.ok)) console.log(`  ${String(p.group)}: ${String(p.error).split("\n").slice(0, 5).join(" | ")}`);
  lap("ptxas");
  console.log(`seconds: ${Object.entries(phase).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  writeResult("elementwise", dev, flags, {
    gpu: dev.gpu,
    timedOn: dev.gpu ? "gpu" : "cpu (Kiln's generated C++; the CUDA kernels are compile-checked only)",
    noGpuReason: dev.noGpuReason,
    floor: { what: dev.gpu ? "device-to-device copy, read + write counted" : "host typed-array copy (cpu stand-in)", gbps: floor.gbps, bytes: floor.bytes, ms: floor.ms },
    bytesRule: "every input read once + the output written once (float32)",
    chains: { chain16: CHAIN16, bcast4: BCAST, constants: CONSTANTS, cols: COLS },
    peers: peer.ok ? { ok: true, env: peer.env } : { ok: false, reason: peer.reason },
    cases: rows,
    ptxas,
    seconds: phase,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(parseFlags());
