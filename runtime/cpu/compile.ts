/**
 * C++ source -> shared library, through the kernel cache: the compiler runs once per distinct
 * (source, compiler version, flags, CPU); later calls, in this process or another one, get the
 * verified .so from the cache without running it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { KilnError } from "../../compiler/base/errors.js";
import { CompileKey, KernelCache, defaultKernelCache, type CacheHit } from "../cache/kernel_cache.js";
import { debugLevel, saveSource } from "../kernel_sources.js";
import { requireCxx } from "./cxx.js";

/** Raised when the C++ compiler rejects a source: carries its stderr and the saved source. */
export class CpuCompileError extends KilnError {
  override name = "CpuCompileError";
  constructor(
    message: string,
    readonly stderr: string,
    readonly sourcePath: string,
  ) {
    super(message);
  }
}

export interface CpuCompileOptions {
  /** More compiler flags, appended (e.g. `-DNAME=1`). */
  extraFlags?: readonly string[];
  cache?: KernelCache;
}

/** A compiled library on disk. */
export interface CpuLibraryFile {
  /** Verified path of the .so, ready for dlopen. */
  path: string;
  key: string;
  hit: CacheHit;
}

/** Times the compiler actually ran in this process (a cache hit does not count). */
export const cpuCompileCounters = { compilerRuns: 0 };

export function compileCpuLibrary(source: string, opts: CpuCompileOptions = {}): CpuLibraryFile {
  const cxx = requireCxx();
  const flags = [...cxx.flags, ...(opts.extraFlags ?? []), "-shared", "-fPIC"];
  const key: CompileKey = { target: cxx.target, source, compiler: cxx.id, compilerVersion: cxx.version, options: flags };
  const cache = opts.cache ?? defaultKernelCache();
  const keyHash = KernelCache.keyOf(key);
  const r = cache.getOrBuild(key, () => runCompiler(cxx.command, flags, source, keyHash, cache), { suffix: ".so" });
  if (!r.path) throw new KilnError(`kernel cache returned no file for ${keyHash}`);
  return { path: r.path, key: r.key, hit: r.hit };
}

function runCompiler(command: string, flags: readonly string[], source: string, key: string, cache: KernelCache): Uint8Array {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-cxx-"));
  try {
    const src = path.join(dir, "kernel.cpp");
    const out = path.join(dir, "kernel.so");
    fs.writeFileSync(src, source);
    const args = [...flags, "-o", out, src];
    if (debugLevel() >= 4) process.stderr.write(`kiln: ${command} ${args.join(" ")}\n`);
    cpuCompileCounters.compilerRuns++;
    const r = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 << 20 });
    if (r.error || r.status !== 0) {
      const saved = saveSource(cache, key, ".cpp", source);
      const stderr = (r.stderr ?? "").replaceAll(src, saved);
      const why = r.error ? r.error.message : `exit status ${r.status}${r.signal ? ` (signal ${r.signal})` : ""}`;
      throw new CpuCompileError(`${command} failed to compile ${saved}: ${why}\n${stderr.trim()}`, stderr, saved);
    }
    return fs.readFileSync(out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
