/**
 * What every bench program shares: the device it measures (and how to describe it), timing
 * (CUDA events on gpu(), a clock on the host; warm-up runs first, then repeated timed runs),
 * statistics, the bandwidth floor, the Python peer runner, the table printer and the JSON
 * writer (bench/results/<name>-<device>-<date>.json).
 */
import { mkdirSync, writeFileSync, existsSync, readdirSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { status } from "../runtime/cuda/status.js";
import { cudaDevice } from "../runtime/cuda/device.js";
import { timeOnDevice } from "../runtime/cuda/event.js";
import { cpu, gpu, Context } from "../runtime/context.js";
import { findPackageRoot } from "../runtime/native/loader.js";
import { compileSymbol } from "../runtime/executor/compile_symbol.js";
import type { CompileSymbolOptions } from "../runtime/executor/compile_symbol.js";
import { renderModule } from "../compiler/codegen/index.js";
import type { Symbol } from "../compiler/symbol/symbol.js";

export const ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url))) ?? process.cwd();

/** Command-line flags every program understands: --repeats N, --warmup N, --quick, --out DIR. */
export interface BenchFlags {
  repeats: number;
  warmup: number;
  /** Fewer and smaller cases (CI smoke runs; the CPU machine without a GPU). */
  quick: boolean;
  outDir: string;
  /** Skip the Python peers even when python3 and torch are present. */
  noPeers: boolean;
}

export function parseFlags(argv: string[] = process.argv.slice(2)): BenchFlags {
  const at = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    repeats: Number(at("--repeats") ?? 20),
    warmup: Number(at("--warmup") ?? 3),
    quick: argv.includes("--quick") || process.env.KILN_BENCH_QUICK === "1",
    outDir: at("--out") ?? process.env.KILN_BENCH_OUT ?? join(ROOT, "bench", "results"),
    noPeers: argv.includes("--no-peers"),
  };
}

/** The device a program measures: gpu(0) when usable, else cpu(); and what it is. */
export interface BenchDevice {
  ctx: Context;
  /** Short name for file names: "nvidia-h100-80gb-hbm3", "cpu-amd-epyc-7b13-2t". */
  slug: string;
  /** Everything worth recording: name, compute capability, driver and NVRTC versions, cores. */
  info: Record<string, unknown>;
  gpu: boolean;
  /** Why there is no GPU (for the "no GPU present" line). */
  noGpuReason?: string;
}

const slugOf = (s: string): string =>
  s
    .toLowerCase()
    .replace(/\(r\)|\(tm\)|cpu @.*$|processor/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");

export function benchDevice(preferGpu = true): BenchDevice {
  const s = status();
  if (preferGpu && s.available) {
    const d = s.devices[0];
    return {
      ctx: gpu(0),
      slug: slugOf(d.name),
      gpu: true,
      info: {
        kind: "gpu",
        name: d.name,
        arch: d.arch,
        sms: d.smCount,
        memoryBytes: d.totalMemory,
        l2Bytes: d.l2CacheBytes,
        driver: s.driver.version,
        nvrtc: s.nvrtc.version,
      },
    };
  }
  const model = cpus()[0]?.model ?? "cpu";
  const threads = Number(process.env.OMP_NUM_THREADS ?? cpus().length);
  return {
    ctx: cpu(),
    slug: `cpu-${slugOf(model).split("-").slice(0, 3).join("-")}-${threads}t`,
    gpu: false,
    noGpuReason: s.reason ?? "no CUDA device",
    info: { kind: "cpu", name: model, threads, cores: cpus().length },
  };
}

export interface Stats {
  /** Milliseconds. */
  median: number;
  min: number;
  p10: number;
  p90: number;
  n: number;
}

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const q = (f: number): number => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { median: q(0.5), min: s[0], p10: q(0.1), p90: q(0.9), n: s.length };
}

/**
 * Times `fn` on the device: `warmup` untimed runs, then `repeats` runs each timed on its own.
 * On gpu() a pair of CUDA events brackets each run (the GPU's time, launches included, host
 * overhead between launches counted only where it stalls the GPU); on the host a clock.
 */
export function timeRuns(dev: BenchDevice, fn: () => void, flags: Pick<BenchFlags, "repeats" | "warmup">, inner = 1): Stats {
  for (let i = 0; i < flags.warmup; i++) fn();
  const samples: number[] = [];
  if (dev.gpu) {
    const d = cudaDevice(dev.ctx.deviceId);
    d.synchronize();
    for (let r = 0; r < flags.repeats; r++) samples.push(timeOnDevice(d, () => { for (let i = 0; i < inner; i++) fn(); }) / inner);
  } else {
    for (let r = 0; r < flags.repeats; r++) {
      const t0 = performance.now();
      for (let i = 0; i < inner; i++) fn();
      samples.push((performance.now() - t0) / inner);
    }
  }
  return stats(samples);
}

/**
 * The bandwidth floor: device-to-device copies of `bytes` (read + write counted), GB/s.
 * On the host, a typed-array copy stands in (a rough figure for the CPU device).
 */
export function copyBandwidth(dev: BenchDevice, bytes = 1 << 28, flags = { repeats: 20, warmup: 3 }): { gbps: number; bytes: number; ms: Stats } {
  if (dev.gpu) {
    const d = cudaDevice(dev.ctx.deviceId);
    const a = d.allocator.alloc(bytes);
    const b = d.allocator.alloc(bytes);
    try {
      d.cu.cuMemsetD8(a.ptr, 1, bytes, d.stream);
      const ms = timeRuns(dev, () => d.cu.cuMemcpyDtoD(b.ptr, a.ptr, bytes, d.stream), flags);
      return { gbps: (2 * bytes) / (ms.median * 1e6), bytes, ms };
    } finally {
      d.allocator.free(a);
      d.allocator.free(b);
    }
  }
  const n = bytes / 4;
  const a = new Float32Array(n).fill(1);
  const b = new Float32Array(n);
  const ms = timeRuns(dev, () => b.set(a), flags);
  return { gbps: (2 * bytes) / (ms.median * 1e6), bytes, ms };
}

/** Deterministic random values in [lo, hi) (inputs are never zeros). */
export function randomArray(n: number, seed = 1, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}

/** Tables printed so far; writeResult stores them in the JSON (bench/report.ts renders them for the README). */
const printedTables: { title?: string; headers: string[]; rows: string[][] }[] = [];

/** Prints rows as an aligned table (numbers right-aligned). */
export function printTable(headers: string[], rows: (string | number)[][], title?: string): void {
  printedTables.push({ title, headers, rows: rows.map((r) => r.map((c) => (typeof c === "number" ? formatNumber(c) : c))) });
  if (title) console.log(`\n${title}`);
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? formatNumber(c) : c)));
  const width = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]): string => r.map((c, i) => (typeof rows[0]?.[i] === "number" ? c.padStart(width[i]) : c.padEnd(width[i]))).join("  ");
  console.log(line(headers));
  console.log(width.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells) console.log(line(r));
}

export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a === 0) return "0";
  if (a >= 1000) return x.toFixed(0);
  if (a >= 100) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

/** Writes the result JSON; returns its path. */
export function writeResult(name: string, dev: BenchDevice, flags: BenchFlags, payload: Record<string, unknown>): string {
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(flags.outDir, { recursive: true });
  const file = join(flags.outDir, `${name}-${dev.slug}-${date}.json`);
  const tables = printedTables.splice(0);
  const body = { bench: name, date: new Date().toISOString(), device: dev.info, flags: { repeats: flags.repeats, warmup: flags.warmup, quick: flags.quick }, ...payload, tables };
  writeFileSync(file, JSON.stringify(body, null, 2) + "\n");
  console.log(`\nwrote ${file}`);
  return file;
}

/** What a peer script returned, or why it did not run. */
export type PeerResult = { ok: true; results: Record<string, unknown>[]; env: Record<string, unknown> } | { ok: false; reason: string };

/**
 * Runs bench/peers/<script>.py with `spec` as JSON on stdin; the script prints one JSON object
 * ({env, results}) as its last stdout line. Missing python3 or torch is not an error: the
 * result says why, and the program reports Kiln's side alone.
 */
export function runPeer(script: string, spec: Record<string, unknown>, flags: BenchFlags, timeoutMs = 600000): PeerResult {
  if (flags.noPeers) return { ok: false, reason: "--no-peers" };
  const path = join(ROOT, "bench", "peers", `${script}.py`);
  if (!existsSync(path)) return { ok: false, reason: `${path} missing` };
  const py = process.env.KILN_PYTHON ?? "python3";
  const r = spawnSync(py, [path], { input: JSON.stringify({ ...spec, repeats: flags.repeats, warmup: flags.warmup }), encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) return { ok: false, reason: `${py}: ${r.error.message}` };
  const last = r.stdout.trim().split("\n").pop() ?? "";
  try {
    const parsed = JSON.parse(last) as { env?: Record<string, unknown>; results?: Record<string, unknown>[]; error?: string };
    if (parsed.error) return { ok: false, reason: parsed.error };
    return { ok: true, results: parsed.results ?? [], env: parsed.env ?? {} };
  } catch {
    return { ok: false, reason: `${script}.py exited ${r.status}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}` };
  }
}

/** The line GPU programs print on a machine without one (they still compile their kernels). */
export function noGpuNotice(name: string, dev: BenchDevice): void {
  console.log(`${name}: no GPU present (${dev.noGpuReason}); compiling the CUDA kernels only (nvcc when found), no GPU timings.`);
}

/** nvcc from PATH or /usr/local/cuda*, if any. */
export function findNvcc(): string | undefined {
  if (spawnSync("nvcc", ["--version"], { encoding: "utf8" }).status === 0) return "nvcc";
  const dirs = existsSync("/usr/local") ? readdirSync("/usr/local").filter((d) => /^cuda/.test(d)).sort().reverse() : [];
  for (const d of dirs) {
    const p = join("/usr/local", d, "bin", "nvcc");
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** ptxas's report for one kernel of a module. */
export interface PtxasKernel {
  name: string;
  registers: number;
  spillBytes: number;
  sharedBytes: number;
}

/**
 * Renders a program's kernels as CUDA and compiles them with nvcc for `arch` (ptxas -v): the
 * check GPU programs make on a machine without a GPU, and the resource report (registers,
 * spills, shared memory per kernel) they record with a GPU.
 */
export function compileCheckCuda(symbol: Symbol, opts: CompileSymbolOptions & { tf32?: boolean; arch?: string }): { ok: boolean; kernels: PtxasKernel[]; error?: string } {
  const nvcc = findNvcc();
  const compiled = compileSymbol(symbol, { ...opts, target: "none" });
  const mod = renderModule(compiled.program.kernels, "cuda", { tf32: opts.tf32 });
  if (!nvcc) return { ok: false, kernels: [], error: "nvcc not found" };
  const dir = mkdtempSync(join(tmpdir(), "kiln-bench-"));
  try {
    const src = join(dir, "module.cu");
    writeFileSync(src, mod.source);
    const r = spawnSync(nvcc, ["-cubin", `-arch=${opts.arch ?? "sm_90"}`, "-Xptxas", "-v", "-o", join(dir, "module.cubin"), src], { encoding: "utf8", maxBuffer: 64 << 20 });
    if (r.status !== 0) return { ok: false, kernels: [], error: (r.stderr || r.stdout).slice(0, 4000) };
    return { ok: true, kernels: parsePtxas(r.stderr + r.stdout) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Registers, spill stores and shared memory per kernel from `ptxas -v` output. */
export function parsePtxas(log: string): PtxasKernel[] {
  const out: PtxasKernel[] = [];
  let cur: PtxasKernel | undefined;
  for (const line of log.split("\n")) {
    const fn = /Compiling entry function '(\w+)'|Function properties for (\w+)/.exec(line);
    if (fn) {
      const name = fn[1] ?? fn[2];
      cur = out.find((k) => k.name === name);
      if (!cur) out.push((cur = { name, registers: 0, spillBytes: 0, sharedBytes: 0 }));
      continue;
    }
    if (!cur) continue;
    const spill = /(\d+) bytes spill stores/.exec(line);
    if (spill) cur.spillBytes = Math.max(cur.spillBytes, Number(spill[1]));
    const regs = /Used (\d+) registers/.exec(line);
    if (regs) cur.registers = Number(regs[1]);
    const smem = /(\d+) bytes smem/.exec(line);
    if (smem) cur.sharedBytes = Number(smem[1]);
  }
  return out;
}
