/**
 * `cpuKernels`: generated C++ compiled by the system compiler into cached shared libraries and
 * called through the native addon.
 */
import { CpuCompileOptions, compileCpuLibrary, cpuCompileCounters } from "./compile.js";
import { CpuLibrary } from "./library.js";
import { findCxx } from "./cxx.js";

export { CpuLibrary, CpuKernel, type CpuKernelArg, type HostDataSource } from "./library.js";
export { CpuCompileError, type CpuCompileOptions, type CpuLibraryFile } from "./compile.js";
export { DEFAULT_CXXFLAGS, type CxxCompiler } from "./cxx.js";

/** Libraries opened in this process, by cache key: each .so is dlopen'ed once. */
const opened = new Map<string, CpuLibrary>();

export const cpuKernels = {
  /** The C++ compiler Kiln would use, or why there is none; never throws. */
  compiler: findCxx,
  /**
   * Compiles `source` (cached in memory and on disk) and opens it. Kernels must be
   * `extern "C" void name(void* const* args)`. Throws CpuCompileError with the compiler's
   * message and the saved source's path when the source does not compile.
   */
  compile(source: string, opts: CpuCompileOptions = {}): CpuLibrary {
    const file = compileCpuLibrary(source, opts);
    let lib = opened.get(file.key);
    if (!lib || lib.closed) opened.set(file.key, (lib = new CpuLibrary(file.path)));
    return lib;
  },
  /** Compiler runs in this process (cache hits excluded). */
  get compilerRuns(): number {
    return cpuCompileCounters.compilerRuns;
  },
};
