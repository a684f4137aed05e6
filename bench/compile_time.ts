/**
 * Compile time of ResNet-50 training (batch 32, 3x224x224, float32, parameter gradients):
 *
 * 1. The graph passes on the host: each pass's time as the pass manager records it
 *    (Program.timings), and their total; medians over several compilations after a first,
 *    JIT-cold one (reported apart). With --quick, ResNet-18 (the same passes, a smaller graph).
 * 2. Code generation: rendering the kernels as CUDA and as C++ (renderModule), medians.
 * 3. Time to the first forward + backward ready (simpleBind → forward(true) → backward → synchronized),
 *    three ways: cold (a child process with an empty kernel cache directory: the compiler runs),
 *    warm in the same process (a second executor: the kernel cache's memory level answers), and
 *    a second child process on the same directory (the disk level answers). With a GPU this is
 *    ResNet-50's CUDA module through NVRTC (ResNet-18 with --quick); on every machine also the
 *    C++ path on cpu() for LeNet (training with a SoftmaxOutput head), since g++ on ResNet-50
 *    would take minutes. The compiler's own time is measured inside the kernel cache's build.
 *    NVRTC (CUDA 13) also keeps its output in the driver's compute cache (~/.nv/ComputeCache):
 *    every child gets a fresh CUDA_CACHE_PATH so that cold is cold; a third CUDA child with an
 *    empty Kiln cache but the cold child's compute cache shows what that cache alone gives.
 * 4. nvcc (-cubin sm_90, ptxas -v) on ResNet-50's CUDA module when nvcc is found (not with
 *    --quick; also gives the ptxas registers/spills per kernel); with --quick, LeNet's CUDA module.
 *
 * Children are this very program run as `node <this file> --child <json>` with KILN_CACHE_DIR
 * pointing at a fresh temporary directory, so nothing depends on where the build lives.
 *
 *   node dist/bench/compile_time.js [--quick] [--repeats N] [--out DIR]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { sym, cpu, gpu, Symbol } from "../index.js";
import type { Executor } from "../index.js";
import { compileSymbol } from "../runtime/executor/compile_symbol.js";
import { renderModule } from "../compiler/codegen/index.js";
import { KernelCache, defaultKernelCache, type KernelCacheStats } from "../runtime/cache/kernel_cache.js";
import { cudaDevice } from "../runtime/cuda/device.js";
import { cpuKernels } from "../runtime/cpu/index.js";
import type { PassTiming } from "../compiler/passes/pass_manager.js";
import {
  BenchFlags,
  PtxasKernel,
  Stats,
  benchDevice,
  compileCheckCuda,
  findNvcc,
  noGpuNotice,
  parseFlags,
  printTable,
  stats,
  writeResult,
} from "./harness.js";
import { classesOf, fillRandom, loadShared, paramGradReq } from "./memory.js";

const SELF = fileURLToPath(import.meta.url);
const BATCH = 32;
const r1 = (x: number): number => Math.round(x * 10) / 10;

/** What a child compiles and runs. */
interface ChildSpec {
  model: "resnet-50" | "resnet-18" | "lenet";
  batch: number;
  target: "cuda" | "cpp";
  /** cold: measure twice in this process (cold, then warm/memory); once: measure once. */
  mode: "cold" | "once";
}

interface ReadyTime {
  /** simpleBind + first forward(true) + backward, synchronized (filling the inputs excluded). */
  readyMs: number;
  bindMs: number;
  firstStepMs: number;
  /** The program's graph passes inside that (the executor's own compilation). */
  passesMs?: number;
  /** A later step of the same executor (replay), for scale: what the first step's execution costs. */
  laterStepMs: number;
  /** Kernel cache counters during the first step. */
  cache: KernelCacheStats;
  /** Time inside the kernel cache's getOrBuild: the compiler on a miss, reading + verifying on a disk hit. */
  cacheMs: number;
  /** Time in the compiler itself (the cache's build callback; 0 on a hit). */
  compilerMs: number;
  /** Which level answered: miss (compiler ran), memory or disk. */
  hit: "miss" | "memory" | "disk" | "none";
  compilerRuns?: number;
}

function childNet(model: ChildSpec["model"]): { net: Symbol; shapes: Record<string, number[]>; classes: number } {
  if (model === "lenet") {
    // The shared LeNet ends at its last FullyConnected: add the loss to train it.
    return { net: sym.SoftmaxOutput({ data: loadShared("lenet"), name: "softmax" }), shapes: { data: [BATCH, 1, 28, 28] }, classes: 10 };
  }
  const net = loadShared(model);
  const shapes = { data: [BATCH, 3, 224, 224] };
  return { net, shapes, classes: classesOf(net, shapes) };
}

function diffStats(a: KernelCacheStats, b: KernelCacheStats): KernelCacheStats {
  return { memoryHits: b.memoryHits - a.memoryHits, diskHits: b.diskHits - a.diskHits, misses: b.misses - a.misses, corrupt: b.corrupt - a.corrupt, builds: b.builds - a.builds };
}

const timed = new WeakMap<KernelCache, { cacheMs: number; compilerMs: number }>();

/** Times this cache's lookups (and the compiler runs inside them) from now on; take() reads and resets. */
function timeCache(cache: KernelCache): { take(): { cacheMs: number; compilerMs: number } } {
  let acc = timed.get(cache);
  if (!acc) {
    const a = (acc = { cacheMs: 0, compilerMs: 0 });
    timed.set(cache, a);
    const getOrBuild = cache.getOrBuild.bind(cache);
    cache.getOrBuild = (k, build, opts) => {
      const t0 = performance.now();
      try {
        return getOrBuild(
          k,
          () => {
            const t1 = performance.now();
            try {
              return build();
            } finally {
              a.compilerMs += performance.now() - t1;
            }
          },
          opts,
        );
      } finally {
        a.cacheMs += performance.now() - t0;
      }
    };
  }
  const a = acc;
  return {
    take() {
      const r = { ...a };
      a.cacheMs = 0;
      a.compilerMs = 0;
      return r;
    },
  };
}

function measureReady(spec: ChildSpec): ReadyTime {
  const { net, shapes, classes } = childNet(spec.model);
  const ctx = spec.target === "cuda" ? gpu(0) : cpu();
  const sync = spec.target === "cuda" ? (): void => cudaDevice(0).synchronize() : (): void => {};
  const cache = defaultKernelCache();
  const timer = timeCache(cache);
  const before = { ...cache.stats };
  const runs0 = cpuKernels.compilerRuns;
  const t0 = performance.now();
  const exe: Executor = net.simpleBind({ ctx, shapes: { ...shapes }, gradReq: paramGradReq(net) });
  const bindMs = performance.now() - t0;
  fillRandom(exe, classes);
  sync();
  const t1 = performance.now();
  exe.forward(true);
  exe.backward();
  exe.outputs[0].toFloat64();
  sync();
  const firstStepMs = performance.now() - t1;
  const cacheDelta = diffStats(before, cache.stats);
  const { cacheMs, compilerMs } = timer.take();
  const timings = (exe as unknown as { program?(v: string): { timings: readonly PassTiming[] } }).program?.("train").timings;
  let laterStepMs = 0;
  // On a GPU the second step captures a CUDA graph and the third replays it.
  for (let i = 0; i < (spec.target === "cuda" ? 3 : 2); i++) {
    const t = performance.now();
    exe.forward(true);
    exe.backward();
    sync();
    laterStepMs = performance.now() - t;
  }
  (exe as { dispose?(): void }).dispose?.();
  for (const a of [...exe.argArrays, ...exe.gradArrays, ...exe.auxArrays, ...exe.outputs]) a?.dispose();
  const hit = cacheDelta.builds > 0 ? "miss" : cacheDelta.diskHits > 0 ? "disk" : cacheDelta.memoryHits > 0 ? "memory" : "none";
  return {
    readyMs: r1(bindMs + firstStepMs),
    bindMs: r1(bindMs),
    firstStepMs: r1(firstStepMs),
    passesMs: timings ? r1(timings.reduce((a, t) => a + t.ms, 0)) : undefined,
    laterStepMs: r1(laterStepMs),
    cacheMs: r1(cacheMs),
    compilerMs: r1(compilerMs),
    cache: cacheDelta,
    hit,
    compilerRuns: spec.target === "cpp" ? cpuKernels.compilerRuns - runs0 : undefined,
  };
}

/** The child process: prints {"results": ReadyTime[]} or {"error"} as its last line. */
async function child(argv: string[]): Promise<void> {
  try {
    const spec = JSON.parse(argv[argv.indexOf("--child") + 1]) as ChildSpec;
    if (spec.target === "cuda") {
      // Create the context and touch the allocator first: context creation is not compile time.
      const d = cudaDevice(0);
      d.allocator.free(d.allocZeroed(1024));
      d.synchronize();
    }
    const results = [measureReady(spec)];
    if (spec.mode === "cold") results.push(measureReady(spec));
    console.log(JSON.stringify({ results }));
  } catch (e) {
    console.log(JSON.stringify({ error: (e as Error).stack?.slice(0, 2000) ?? String(e) }));
  }
}

/**
 * Runs a child with its own Kiln cache directory and its own CUDA compute cache directory.
 * NVRTC (CUDA 13) keeps what it compiled in the driver's compute cache (~/.nv/ComputeCache,
 * CUDA_CACHE_PATH): without a fresh one a "cold" Kiln cache still gets ResNet-50 in ~0.2 s
 * instead of ~20 s whenever any process on the machine compiled the same source before.
 */
function spawnChild(spec: ChildSpec, cacheDir: string, cudaCacheDir: string): { ok: true; results: ReadyTime[]; wallMs: number } | { ok: false; error: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, KILN_CACHE_DIR: cacheDir, CUDA_CACHE_PATH: cudaCacheDir };
  delete env.KILN_CACHE; // the disk level must be on
  delete env.CUDA_CACHE_DISABLE;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [SELF, "--child", JSON.stringify(spec)], { env, encoding: "utf8", timeout: 400000, maxBuffer: 64 << 20 });
  const wallMs = performance.now() - t0;
  const last = (r.stdout ?? "").trim().split("\n").pop() ?? "";
  try {
    const parsed = JSON.parse(last) as { results?: ReadyTime[]; error?: string };
    if (parsed.error || !parsed.results) return { ok: false, error: parsed.error ?? "no results" };
    return { ok: true, results: parsed.results, wallMs };
  } catch {
    return { ok: false, error: `child exited ${r.status}${r.signal ? ` (${r.signal})` : ""}${r.error ? `: ${r.error.message}` : ""}: ${(r.stderr || r.stdout || "").trim().split("\n").slice(-5).join(" | ")}` };
  }
}

export interface ColdWarmDisk {
  path: string;
  model: string;
  batch: number;
  target: "cuda" | "cpp";
  cold?: ReadyTime;
  warm?: ReadyTime;
  disk?: ReadyTime;
  /** cold.readyMs − warm.readyMs: the compiler, the disk write, and the cold process's JIT warm-up of the passes. */
  coldMinusWarmMs?: number;
  /**
   * CUDA only: a third process with an empty Kiln cache but the cold process's CUDA compute
   * cache: NVRTC runs (a Kiln miss) and is answered from the driver's cache.
   */
  computeCache?: ReadyTime;
  /** Whether each measurement was answered where expected (miss, memory, disk). */
  hitsAsExpected?: boolean;
  childWallMs?: { cold: number; disk: number; computeCache?: number };
  error?: string;
}

function coldWarmDisk(spec: Omit<ChildSpec, "mode">): ColdWarmDisk {
  const dir = mkdtempSync(join(tmpdir(), "kiln-compile-time-"));
  const sub = (name: string): string => join(dir, name);
  const path = spec.target === "cuda" ? "CUDA (NVRTC)" : "C++ (system compiler)";
  const out: ColdWarmDisk = { path, model: spec.model, batch: spec.batch, target: spec.target };
  try {
    const cold = spawnChild({ ...spec, mode: "cold" }, sub("kiln"), sub("cuda-cold"));
    if (!cold.ok) return { ...out, error: `cold child: ${cold.error}` };
    const disk = spawnChild({ ...spec, mode: "once" }, sub("kiln"), sub("cuda-disk"));
    if (!disk.ok) return { ...out, cold: cold.results[0], warm: cold.results[1], error: `disk child: ${disk.error}` };
    const cc = spec.target === "cuda" ? spawnChild({ ...spec, mode: "once" }, sub("kiln-2"), sub("cuda-cold")) : undefined;
    const [c, w] = cold.results;
    const d = disk.results[0];
    return {
      ...out,
      cold: c,
      warm: w,
      disk: d,
      coldMinusWarmMs: r1(c.readyMs - w.readyMs),
      computeCache: cc?.ok ? cc.results[0] : undefined,
      hitsAsExpected: c.hit === "miss" && w.hit === "memory" && d.hit === "disk",
      childWallMs: { cold: Math.round(cold.wallMs), disk: Math.round(disk.wallMs), computeCache: cc?.ok ? Math.round(cc.wallMs) : undefined },
      error: cc && !cc.ok ? `compute-cache child: ${cc.error}` : undefined,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PassRow {
  name: string;
  median: number;
  p10: number;
  p90: number;
  /** The first (JIT-cold) compilation. */
  first: number;
}

/** compileSymbol `runs` times; per-pass medians (runs after the first), the total, and rendering. */
function passTimes(net: Symbol, shapes: Record<string, number[]>, runs: number): { passes: PassRow[]; total: PassRow; wall: PassRow; render: { cuda: PassRow; cpp: PassRow; kernels: number; steps: number; cudaSourceBytes: number; cppSourceBytes: number } } {
  const per = new Map<string, number[]>();
  const totals: number[] = [];
  const walls: number[] = [];
  const cudaMs: number[] = [];
  const cppMs: number[] = [];
  let kernels = 0;
  let steps = 0;
  let cudaBytes = 0;
  let cppBytes = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const c = compileSymbol(net, { shapes, isTrain: true, gradReq: paramGradReq(net) });
    walls.push(performance.now() - t0);
    const seen = new Map<string, number>();
    for (const t of c.program.timings) seen.set(t.name, (seen.get(t.name) ?? 0) + t.ms);
    for (const [n, ms] of seen) {
      if (!per.has(n)) per.set(n, []);
      per.get(n)!.push(ms);
    }
    totals.push(c.program.timings.reduce((a, t) => a + t.ms, 0));
    const t1 = performance.now();
    const cu = renderModule(c.program.kernels, "cuda");
    const t2 = performance.now();
    const cp = renderModule(c.program.kernels, "cpp");
    const t3 = performance.now();
    cudaMs.push(t2 - t1);
    cppMs.push(t3 - t2);
    kernels = c.program.kernels.length;
    steps = c.program.steps.length;
    cudaBytes = cu.source.length;
    cppBytes = cp.source.length;
  }
  const row = (name: string, xs: number[]): PassRow => {
    const s: Stats = stats(xs.length > 1 ? xs.slice(1) : xs);
    const r2 = (x: number): number => Math.round(x * 100) / 100;
    return { name, median: r2(s.median), p10: r2(s.p10), p90: r2(s.p90), first: r2(xs[0]) };
  };
  return {
    passes: [...per.entries()].map(([n, xs]) => row(n, xs)),
    total: row("total (all passes)", totals),
    wall: row("compileSymbol (wall)", walls),
    render: { cuda: row("render CUDA", cudaMs), cpp: row("render C++", cppMs), kernels, steps, cudaSourceBytes: cudaBytes, cppSourceBytes: cppBytes },
  };
}

interface NvccReport {
  model: string;
  ok: boolean;
  /** compileSymbol + render + nvcc -cubin -Xptxas -v, wall. */
  ms: number;
  kernels: PtxasKernel[];
  maxRegisters: number;
  spillingKernels: number;
  error?: string;
}

function nvccReport(model: "resnet-50" | "lenet"): NvccReport {
  const { net, shapes } = childNet(model);
  const t0 = performance.now();
  const r = compileCheckCuda(net, { shapes, isTrain: true, gradReq: paramGradReq(net) });
  return {
    model,
    ok: r.ok,
    ms: Math.round(performance.now() - t0),
    kernels: r.kernels,
    maxRegisters: Math.max(0, ...r.kernels.map((k) => k.registers)),
    spillingKernels: r.kernels.filter((k) => k.spillBytes > 0).length,
    error: r.error,
  };
}

export async function run(flags: BenchFlags): Promise<void> {
  const started = performance.now();
  const dev = benchDevice();
  if (!dev.gpu) noGpuNotice("compile_time", dev);

  // 1 + 2: passes and rendering, on the host.
  const runs = flags.quick ? 2 : Math.max(3, Math.min(flags.repeats, 10));
  // --quick (CI, the 2-core machine): ResNet-18, the same passes on a graph 2.5x smaller.
  const passModel = flags.quick ? "resnet-18" : "resnet-50";
  const shapes = { data: [BATCH, 3, 224, 224] };
  const p = passTimes(loadShared(passModel), shapes, runs);
  console.log(`\n${passModel} training, batch ${BATCH}: graph passes (ms; median of ${runs - 1} after a first, JIT-cold compilation${flags.quick ? "; --quick: one run" : ""}), on the host CPU\n`);
  printTable(
    ["pass", "median ms", "p10", "p90", "first run ms"],
    [...p.passes, p.total, p.wall, p.render.cuda, p.render.cpp].map((r) => [r.name, r.median, r.p10, r.p90, r.first]),
  );
  console.log(`(${p.render.kernels} distinct kernels, ${p.render.steps} launches; CUDA source ${(p.render.cudaSourceBytes / 1024).toFixed(0)} KiB, C++ ${(p.render.cppSourceBytes / 1024).toFixed(0)} KiB)`);

  // 3: cold / warm (memory) / disk, each in fresh processes.
  const paths: ColdWarmDisk[] = [];
  if (dev.gpu) paths.push(coldWarmDisk({ model: flags.quick ? "resnet-18" : "resnet-50", batch: BATCH, target: "cuda" }));
  const cxx = cpuKernels.compiler();
  if (cxx.compiler) paths.push(coldWarmDisk({ model: "lenet", batch: BATCH, target: "cpp" }));
  else paths.push({ path: "C++ (system compiler)", model: "lenet", batch: BATCH, target: "cpp", error: `no C++ compiler: ${cxx.error}` });
  console.log("\nTime to the first forward + backward ready (bind + first training step, synchronized), by kernel-cache state\n");
  printTable(
    ["path", "model", "cold ms (compiler ran)", "warm ms (memory hit)", "disk ms (2nd process)", "compiler ms", "disk read ms", "later step ms", "hits as expected", "NVRTC from CUDA compute cache ms"],
    paths.map((x) => [
      x.path,
      `${x.model} b${x.batch}`,
      x.cold?.readyMs ?? "-",
      x.warm?.readyMs ?? "-",
      x.disk?.readyMs ?? "-",
      x.cold?.compilerMs ?? "-",
      x.disk?.cacheMs ?? "-",
      x.warm?.laterStepMs ?? "-",
      x.error ? `ERROR` : String(x.hitsAsExpected),
      x.computeCache ? `${x.computeCache.compilerMs} (ready ${x.computeCache.readyMs})` : "-",
    ]),
  );
  for (const x of paths) if (x.error) console.log(`${x.path}: ${x.error.split("\n").slice(0, 6).join("\n")}`);

  // 4: nvcc.
  const nvcc: NvccReport[] = [];
  if (findNvcc()) {
    nvcc.push(nvccReport("lenet"));
    if (!flags.quick) nvcc.push(nvccReport("resnet-50"));
    console.log("\nnvcc -cubin -arch=sm_90 -Xptxas -v on the training program's CUDA module (wall ms includes compileSymbol and rendering)\n");
    printTable(
      ["model", "ok", "kernels", "max registers", "spilling kernels", "ms"],
      nvcc.map((r) => [r.model, r.ok ? "ok" : `FAILED: ${(r.error ?? "").split("\n")[0].slice(0, 80)}`, String(r.kernels.length), String(r.maxRegisters), String(r.spillingKernels), r.ms]),
    );
  } else console.log("\nnvcc not found: no nvcc compile time");

  writeResult("compile_time", dev, flags, {
    gpu: dev.gpu,
    model: passModel,
    batch: BATCH,
    mode: "training (forward + backward, parameter gradients)",
    floor: { note: "no floor: compile time is reported as is; 'later step ms' gives the execution time inside the first step for scale" },
    runs,
    passes: p.passes,
    passesTotal: p.total,
    compileSymbolWall: p.wall,
    render: p.render,
    readyTimes: paths,
    nvcc,
    compiler: cxx.compiler ? { command: cxx.compiler.command, version: cxx.compiler.version, flags: cxx.compiler.flags } : { error: cxx.error },
    elapsedS: r1((performance.now() - started) / 1000),
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--child")) await child(process.argv);
  else await run(parseFlags());
}
