/**
 * Where Kiln looks for libcuda and libnvrtc: the policy half of "dlopen at first use".
 *
 * Each candidate is either a bare soname (resolved by the dynamic loader: LD_LIBRARY_PATH,
 * ld.so.cache, RUNPATH) or an absolute file. Explicit settings come first:
 * `KILN_CUDA_PATH` / `KILN_NVRTC_PATH` (a file, or a directory holding the library), then
 * sonames, then the usual install locations: `CUDA_HOME`/`CUDA_PATH`, /usr/local/cuda*,
 * and for NVRTC the lib folders of Python's `nvidia-cuda-nvrtc` wheels in site-packages.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";

/** One place to try: `path` is what dlopen gets; `origin` says why it is on the list. */
export interface LibraryCandidate {
  path: string;
  origin: string;
}

const LIBCUDA_NAMES = ["libcuda.so.1", "libcuda.so"];
/** Newest first; 11.2+ NVRTCs are named by major version only. */
const NVRTC_SONAMES = ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so.11.1", "libnvrtc.so.11.0", "libnvrtc.so"];
const NVRTC_FILE = /^libnvrtc\.so(\.\d+)*$/;

/** Directories where drivers are installed outside the loader's default path. */
const DRIVER_DIRS = ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/aarch64-linux-gnu", "/usr/local/nvidia/lib64", "/usr/lib/wsl/lib"];

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** An env setting naming a library file, or a directory holding one of `names`. */
function fromSetting(value: string | undefined, names: readonly string[], origin: string): LibraryCandidate[] {
  if (!value) return [];
  if (!isDir(value)) return [{ path: path.resolve(value), origin }];
  return names.map((n) => ({ path: path.join(value, n), origin }));
}

function push(list: LibraryCandidate[], c: LibraryCandidate): void {
  if (!list.some((x) => x.path === c.path)) list.push(c);
}

/** Candidates to try in order, and the directories scanned for more (found or not). */
export interface LibrarySearch {
  candidates: LibraryCandidate[];
  dirs: string[];
}

/** Where to look for the CUDA driver library. */
export function libcudaSearch(env: NodeJS.ProcessEnv = process.env): LibrarySearch {
  const out: LibraryCandidate[] = [];
  for (const c of fromSetting(env.KILN_CUDA_PATH, LIBCUDA_NAMES, "KILN_CUDA_PATH")) push(out, c);
  for (const n of LIBCUDA_NAMES) push(out, { path: n, origin: "dynamic loader" });
  for (const d of DRIVER_DIRS) for (const n of LIBCUDA_NAMES) if (fs.existsSync(path.join(d, n))) push(out, { path: path.join(d, n), origin: d });
  return { candidates: out, dirs: DRIVER_DIRS.filter(isDir) };
}

/** libnvrtc files in `dir`, newest version first (libnvrtc-builtins excluded). */
function nvrtcFilesIn(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => NVRTC_FILE.test(n));
  } catch {
    return [];
  }
  const ver = (n: string) => n.slice("libnvrtc.so".length).split(".").filter(Boolean).map(Number);
  names.sort((a, b) => {
    const va = ver(a), vb = ver(b);
    for (let i = 0; i < Math.max(va.length, vb.length); i++) {
      const d = (vb[i] ?? -1) - (va[i] ?? -1);
      if (d !== 0) return d;
    }
    return 0;
  });
  return names.map((n) => path.join(dir, n));
}

/** /usr/local/cuda and /usr/local/cuda-X.Y, newest version first. */
function localCudaRoots(): string[] {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync("/usr/local").filter((n) => /^cuda(-\d+(\.\d+)*)?$/.test(n));
  } catch {
    /* no /usr/local */
  }
  const num = (n: string) => (n === "cuda" ? Infinity : parseFloat(n.slice(5)));
  return entries.sort((a, b) => num(b) - num(a)).map((n) => path.join("/usr/local", n));
}

let sitePackagesMemo: string[] | undefined;

/** Python's site-packages directories (system and user), asked of `python3` once; [] without Python. */
export function pythonSitePackages(): string[] {
  if (sitePackagesMemo) return sitePackagesMemo;
  const code = "import json, site\nd = list(site.getsitepackages())\ntry:\n d.append(site.getusersitepackages())\nexcept Exception:\n pass\nprint(json.dumps(d))";
  sitePackagesMemo = [];
  for (const py of ["python3", "python"]) {
    const r = spawnSync(py, ["-c", code], { encoding: "utf8", timeout: 5000 });
    if (r.status !== 0 || !r.stdout) continue;
    try {
      sitePackagesMemo = (JSON.parse(r.stdout.trim()) as string[]).filter(isDir);
      break;
    } catch {
      /* unexpected output: try the next interpreter */
    }
  }
  return sitePackagesMemo;
}

/** The lib folders of NVIDIA's pip wheels (nvidia/cuda_nvrtc/lib for CUDA 11-12, nvidia/cu13/lib for 13). */
function wheelLibDirs(site: string): string[] {
  const root = path.join(site, "nvidia");
  if (!isDir(root)) return [];
  const out: string[] = [];
  for (const sub of fs.readdirSync(root)) {
    for (const lib of ["lib", "lib64"]) {
      const d = path.join(root, sub, lib);
      if (isDir(d)) out.push(d);
    }
  }
  return out;
}

/** Where to look for NVRTC. */
export function nvrtcSearch(env: NodeJS.ProcessEnv = process.env): LibrarySearch {
  const out: LibraryCandidate[] = [];
  const dirs: string[] = [];
  for (const c of fromSetting(env.KILN_NVRTC_PATH, NVRTC_SONAMES, "KILN_NVRTC_PATH")) push(out, c);
  for (const n of NVRTC_SONAMES) push(out, { path: n, origin: "dynamic loader" });
  const roots: Array<[string, string]> = [];
  if (env.CUDA_HOME) roots.push([env.CUDA_HOME, "CUDA_HOME"]);
  if (env.CUDA_PATH) roots.push([env.CUDA_PATH, "CUDA_PATH"]);
  for (const r of localCudaRoots()) roots.push([r, r]);
  for (const [root, origin] of roots) {
    for (const lib of ["lib64", "lib", "targets/x86_64-linux/lib", "targets/sbsa-linux/lib"]) {
      const d = path.join(root, lib);
      if (!isDir(d)) continue;
      dirs.push(d);
      for (const f of nvrtcFilesIn(d)) push(out, { path: f, origin });
    }
  }
  for (const site of pythonSitePackages()) {
    const wheels = wheelLibDirs(site);
    dirs.push(wheels.length ? wheels.join(", ") : path.join(site, "nvidia/*/lib"));
    for (const d of wheels) for (const f of nvrtcFilesIn(d)) push(out, { path: f, origin: `Python package in ${site}` });
  }
  return { candidates: out, dirs };
}

/**
 * Short text of what was tried, for messages: consecutive candidates that failed the same way
 * share one explanation ("a, b (not found by the dynamic loader); c (wrong ELF class)").
 */
export function describeTried(tried: ReadonlyArray<{ path: string; error: string }>, dirs: readonly string[] = []): string {
  const groups: Array<{ paths: string[]; error: string }> = [];
  for (const t of tried) {
    const last = groups[groups.length - 1];
    if (last && last.error === t.error) last.paths.push(t.path);
    else groups.push({ paths: [t.path], error: t.error });
  }
  const parts = groups.map((g) => `${g.paths.join(", ")} (${g.error})`);
  if (dirs.length) parts.push(`searched directories: ${dirs.join(", ")}`);
  return parts.join("; ");
}

/** dlerror text made short: the common "no such file" case becomes "not found". */
export function shortLoadError(origin: string, err: string): string {
  const first = err.split("\n")[0];
  if (/No such file or directory/.test(first)) return origin === "dynamic loader" ? "not found by the dynamic loader" : "not found";
  // dlerror repeats the path first; drop it.
  return `${origin}: ${first.replace(/^[^:]*\.so[^:]*: /, "")}`;
}
