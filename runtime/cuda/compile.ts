/**
 * CUDA source -> CUBIN (or PTX) with NVRTC, through the kernel cache: compiled once per
 * distinct (source, NVRTC version, options, architecture), in memory and on disk.
 */
import { KilnError } from "../../compiler/base/errors.js";
import { CompileKey, KernelCache, defaultKernelCache, type CacheHit } from "../cache/kernel_cache.js";
import { NvrtcProbe, requireNvrtc } from "./driver.js";
import { debugLevel, saveSource } from "../kernel_sources.js";

/** Options of {@link compileCuda}. */
export interface CudaCompileOptions {
  /** Compile with `-lineinfo` (source lines in profilers). */
  lineInfo?: boolean;
  /** Compile with `--use_fast_math`. */
  fastMath?: boolean;
  /** Emit PTX for the device's virtual architecture even when CUBIN is possible (the driver JITs it). */
  ptx?: boolean;
  /** More NVRTC options, appended (e.g. `-I/path`, `-DNAME=1`). */
  extraOptions?: readonly string[];
  /** The cache to use; default {@link defaultKernelCache}. */
  cache?: KernelCache;
}

/** A compiled CUDA module image. */
export interface CudaImage {
  /** CUBIN, or NUL-terminated PTX for the driver to JIT. */
  bytes: Uint8Array;
  kind: "cubin" | "ptx";
  /** The option it was compiled for, e.g. "sm_90" or "compute_90". */
  target: string;
  /** Cache key (sha256 hex) and which cache level answered. */
  key: string;
  hit: CacheHit;
}

/** Raised when NVRTC rejects a source: carries NVRTC's log and where the source was saved. */
export class CudaCompileError extends KilnError {
  override name = "CudaCompileError";
  constructor(
    message: string,
    readonly log: string,
    readonly sourcePath: string,
  ) {
    super(message);
  }
}

/**
 * The NVRTC target for a device of compute capability `sm` (e.g. 90): CUBIN when this NVRTC
 * can emit it, else PTX for the newest virtual architecture it knows that the device can run.
 */
export function chooseTarget(sm: number, nvrtc: Pick<NvrtcProbe, "archs">): { option: string; kind: "cubin" | "ptx" } {
  if (nvrtc.archs.includes(sm)) return { option: `sm_${sm}`, kind: "cubin" };
  const older = nvrtc.archs.filter((a) => a <= sm);
  const virt = older.length ? Math.max(...older) : sm;
  return { option: `compute_${virt}`, kind: "ptx" };
}

/**
 * Compiles `source` for a device of compute capability `computeCapability` (e.g. [9, 0]).
 * Kernels must be `extern "C" __global__` so their names survive unmangled.
 * Throws a CudaUnavailableError without NVRTC, a CudaCompileError on a compile error.
 */
export function compileCuda(source: string, computeCapability: readonly [number, number], opts: CudaCompileOptions = {}): CudaImage {
  const nvrtc = requireNvrtc("CUDA compile");
  const sm = computeCapability[0] * 10 + computeCapability[1];
  const target = opts.ptx ? { option: `compute_${sm}`, kind: "ptx" as const } : chooseTarget(sm, nvrtc);
  const options = [`--gpu-architecture=${target.option}`, "-std=c++17"];
  if (opts.lineInfo) options.push("-lineinfo");
  if (opts.fastMath) options.push("--use_fast_math");
  options.push(...(opts.extraOptions ?? []));
  const key: CompileKey = {
    target: `cuda:${target.option}`,
    source,
    compiler: "nvrtc",
    compilerVersion: (nvrtc.version ?? [0, 0]).join("."),
    options,
  };
  const cache = opts.cache ?? defaultKernelCache();
  const keyHash = KernelCache.keyOf(key);
  const r = cache.getOrBuild(key, () => {
    if (debugLevel() >= 4) process.stderr.write(`kiln: nvrtc ${options.join(" ")} (${keyHash})\n`);
    const out = nvrtc.nv.nvrtcCompile(source, `kiln_${keyHash.slice(0, 12)}.cu`, options, target.kind === "cubin");
    if (!out.ok) {
      const file = saveSource(cache, keyHash, ".cu", source);
      throw new CudaCompileError(
        `NVRTC failed to compile ${file} for ${target.option}: ${out.codeName} (${out.code})\n${out.log.trim()}`,
        out.log,
        file,
      );
    }
    return out.binary;
  });
  return { bytes: r.bytes, kind: target.kind, target: target.option, key: r.key, hit: r.hit };
}
