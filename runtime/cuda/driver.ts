/**
 * Lazy discovery of the CUDA driver and NVRTC. Nothing here runs at import: the first caller
 * (cuda.status(), a gpu context, a CUDA compile) triggers one probe, whose outcome is kept.
 * Probes never throw; `requireDriver`/`requireNvrtc` turn a failed probe into a
 * CudaUnavailableError that says what is missing and where Kiln looked.
 */
import { tryLoadNative } from "../native/loader.js";
import type { NativeAddon } from "../native/native_api.js";
import { CudaError, CudaUnavailableError, withCudaErrors } from "./errors.js";
import { LibraryCandidate, describeTried, libcudaSearch, nvrtcSearch, shortLoadError } from "./library_search.js";

/** Outcome of looking for one library. */
export interface LibraryProbe {
  ok: boolean;
  /** The file or soname that loaded. */
  path?: string;
  /** Why it is unusable (when not ok). */
  error?: string;
  /** Every candidate tried, with its failure. */
  tried: Array<{ path: string; error: string }>;
  /** Directories scanned for candidates. */
  dirs: string[];
}

export interface DriverProbe extends LibraryProbe {
  /** cuDriverGetVersion, e.g. 12040 for CUDA 12.4. */
  version?: number;
  deviceCount: number;
  /** The addon with CUDA errors wrapped, when the driver loaded and initialized. */
  cu?: NativeAddon;
}

export interface NvrtcProbe extends LibraryProbe {
  /** [major, minor] from nvrtcVersion. */
  version?: [number, number];
  /** SM numbers NVRTC can emit CUBIN for (empty when it cannot say). */
  archs: number[];
  nv?: NativeAddon;
}

function loadFirst(
  addon: NativeAddon,
  candidates: LibraryCandidate[],
  load: (p: string) => string | undefined,
): { path?: string; tried: Array<{ path: string; error: string }> } {
  const tried: Array<{ path: string; error: string }> = [];
  for (const c of candidates) {
    const err = load.call(addon, c.path);
    if (err === undefined) return { path: c.path, tried };
    tried.push({ path: c.path, error: shortLoadError(c.origin, err) });
  }
  return { tried };
}

let driverMemo: DriverProbe | undefined;
let nvrtcMemo: NvrtcProbe | undefined;

/** Finds, loads and initializes the driver once; never throws. */
export function probeDriver(): DriverProbe {
  if (driverMemo) return driverMemo;
  const native = tryLoadNative();
  if (!native.addon) return (driverMemo = { ok: false, error: native.error, tried: [], dirs: [], deviceCount: 0 });
  const search = libcudaSearch();
  const found = loadFirst(native.addon, search.candidates, native.addon.cudaLoad);
  if (!found.path)
    return (driverMemo = {
      ok: false,
      error: `no CUDA driver library (libcuda) could be loaded; set KILN_CUDA_PATH to it. Looked at: ${describeTried(found.tried, search.dirs)}`,
      tried: found.tried,
      dirs: search.dirs,
      deviceCount: 0,
    });
  const cu = withCudaErrors(native.addon);
  const base = { path: found.path, tried: found.tried, dirs: search.dirs };
  let version: number | undefined;
  try {
    version = cu.cuDriverGetVersion();
    cu.cuInit();
    const deviceCount = cu.cuDeviceGetCount();
    if (deviceCount === 0)
      return (driverMemo = { ...base, ok: false, version, deviceCount, error: `the CUDA driver at ${found.path} reports no device` });
    return (driverMemo = { ...base, ok: true, version, deviceCount, cu });
  } catch (err) {
    const why = err instanceof CudaError ? err.message : String(err);
    const hint =
      err instanceof CudaError && err.code === 100
        ? "no CUDA device is visible"
        : err instanceof CudaError && err.code === 34
          ? "it is the toolkit's stub library, not a driver"
          : "the driver could not be initialized";
    return (driverMemo = { ...base, ok: false, version, deviceCount: 0, error: `CUDA driver at ${found.path}: ${hint} (${why})` });
  }
}

/** Finds and loads NVRTC once; never throws. */
export function probeNvrtc(): NvrtcProbe {
  if (nvrtcMemo) return nvrtcMemo;
  const native = tryLoadNative();
  if (!native.addon) return (nvrtcMemo = { ok: false, error: native.error, tried: [], dirs: [], archs: [] });
  const search = nvrtcSearch();
  const found = loadFirst(native.addon, search.candidates, native.addon.nvrtcLoad);
  if (!found.path)
    return (nvrtcMemo = {
      ok: false,
      error:
        `NVRTC (libnvrtc) could not be loaded; install the CUDA toolkit or \`pip install nvidia-cuda-nvrtc\`, ` +
        `or set KILN_NVRTC_PATH. Looked at: ${describeTried(found.tried, search.dirs)}`,
      tried: found.tried,
      dirs: search.dirs,
      archs: [],
    });
  const nv = withCudaErrors(native.addon);
  try {
    return (nvrtcMemo = { ok: true, path: found.path, tried: found.tried, dirs: search.dirs, version: nv.nvrtcVersion(), archs: nv.nvrtcGetSupportedArchs(), nv });
  } catch (err) {
    return (nvrtcMemo = { ok: false, path: found.path, tried: found.tried, dirs: search.dirs, archs: [], error: `NVRTC at ${found.path}: ${String(err)}` });
  }
}

/** The initialized driver, or a CudaUnavailableError saying why there is none. */
export function requireDriver(what: string): NativeAddon {
  const p = probeDriver();
  if (!p.ok || !p.cu) throw new CudaUnavailableError(`${what}: no usable GPU: ${p.error}`);
  return p.cu;
}

/** Loaded NVRTC, or a CudaUnavailableError saying why there is none. */
export function requireNvrtc(what: string): NvrtcProbe & { nv: NativeAddon } {
  const p = probeNvrtc();
  if (!p.ok || !p.nv) throw new CudaUnavailableError(`${what}: ${p.error}`);
  return p as NvrtcProbe & { nv: NativeAddon };
}

/** "12.4" from 12040. */
export function formatCudaVersion(v: number): string {
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}
