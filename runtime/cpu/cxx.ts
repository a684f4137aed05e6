/**
 * The system C++ compiler used for CPU kernels: `KILN_CXX`, else the first of g++, clang++,
 * c++ that runs. Flags default to `-O3 -march=native -fopenmp -std=c++17`; `KILN_CXXFLAGS`
 * replaces them. `-shared -fPIC` are always added, since the output must be a shared library.
 */
import * as os from "node:os";
import { spawnSync } from "node:child_process";
import { KilnError } from "../../compiler/base/errors.js";

export const DEFAULT_CXXFLAGS: readonly string[] = ["-O3", "-march=native", "-fopenmp", "-std=c++17"];

/** A compiler Kiln can run. */
export interface CxxCompiler {
  /** The command, e.g. "g++" or "/usr/bin/clang++-17". */
  command: string;
  /** "g++", "clang++", or the command's name for other compilers. */
  id: string;
  /** First line of `--version`, which names the exact build. */
  version: string;
  /** Compile flags (without -shared -fPIC and the file names). */
  flags: readonly string[];
  /**
   * The target as the cache key sees it: `-march=native` makes the code CPU-specific, so the
   * CPU model is part of it (a shared cache directory may serve several machines).
   */
  target: string;
}

let memo: { compiler?: CxxCompiler; error?: string; envKey: string } | undefined;

function probe(command: string): string | undefined {
  const r = spawnSync(command, ["--version"], { encoding: "utf8", timeout: 10000 });
  if (r.status !== 0 || !r.stdout) return undefined;
  return r.stdout.split("\n")[0].trim();
}

/** The compiler, or why there is none; never throws. Re-probed when KILN_CXX/KILN_CXXFLAGS change. */
export function findCxx(): { compiler?: CxxCompiler; error?: string } {
  const envKey = `${process.env.KILN_CXX ?? ""}\0${process.env.KILN_CXXFLAGS ?? ""}`;
  if (memo && memo.envKey === envKey) return memo;
  const candidates = process.env.KILN_CXX ? [process.env.KILN_CXX] : ["g++", "clang++", "c++"];
  const flags = process.env.KILN_CXXFLAGS !== undefined ? process.env.KILN_CXXFLAGS.split(/\s+/).filter(Boolean) : DEFAULT_CXXFLAGS;
  for (const command of candidates) {
    const version = probe(command);
    if (!version) continue;
    const id = /clang/i.test(version) ? "clang++" : /\b(g\+\+|gcc|GCC)\b/.test(version) ? "g++" : command;
    const cpuModel = os.cpus()[0]?.model?.trim() ?? "unknown";
    memo = { envKey, compiler: { command, id, version, flags, target: `cpu:${os.arch()}:${cpuModel}` } };
    return memo;
  }
  const error = process.env.KILN_CXX
    ? `KILN_CXX=${process.env.KILN_CXX} does not run (\`${process.env.KILN_CXX} --version\` failed)`
    : "no C++ compiler found (tried g++, clang++, c++); install one or set KILN_CXX";
  memo = { envKey, error };
  return memo;
}

/** The compiler; throws a KilnError saying what is missing. */
export function requireCxx(): CxxCompiler {
  const r = findCxx();
  if (!r.compiler) throw new KilnError(`cpu kernels: ${r.error}`);
  return r.compiler;
}
