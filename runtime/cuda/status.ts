/** `cuda.status()`: what of the CUDA stack is here, for users, tests and the CLI. Never throws. */
import { tryLoadNative } from "../native/loader.js";
import { CudaDeviceProperties, queryDeviceProperties } from "./device.js";
import { formatCudaVersion, probeDriver, probeNvrtc } from "./driver.js";

/** A report on the native addon, the driver, NVRTC and the devices. */
export interface CudaStatus {
  /** True when a GPU can run Kiln's kernels: driver, at least one device, and NVRTC. */
  available: boolean;
  /** When not available: the first missing piece and where Kiln looked. */
  reason?: string;
  native: { loaded: boolean; path?: string; error?: string };
  /** `searched`: every file or soname tried, then the directories scanned for candidates. */
  driver: { loaded: boolean; path?: string; version?: string; error?: string; searched: string[] };
  nvrtc: { loaded: boolean; path?: string; version?: string; cubinArchs: number[]; error?: string; searched: string[] };
  deviceCount: number;
  devices: CudaDeviceProperties[];
  /** Usable but suspicious, e.g. an NVRTC newer than the driver (its output may not load). */
  warnings: string[];
}

export function status(): CudaStatus {
  try {
    return collect();
  } catch (err) {
    // A bug here must not take down a caller that only asked what is available.
    const reason = `cuda.status() failed unexpectedly: ${String(err)}`;
    return {
      available: false,
      reason,
      native: { loaded: false, error: reason },
      driver: { loaded: false, searched: [] },
      nvrtc: { loaded: false, cubinArchs: [], searched: [] },
      deviceCount: 0,
      devices: [],
      warnings: [],
    };
  }
}

function collect(): CudaStatus {
  const native = tryLoadNative();
  const d = probeDriver();
  const n = probeNvrtc();
  const devices: CudaDeviceProperties[] = [];
  let deviceError: string | undefined;
  if (d.ok && d.cu) {
    for (let i = 0; i < d.deviceCount; i++) {
      try {
        devices.push(queryDeviceProperties(d.cu, i));
      } catch (err) {
        deviceError = `gpu(${i}): ${String(err)}`;
      }
    }
  }
  const driverLoaded = d.path !== undefined;
  const reason = !native.addon
    ? native.error
    : !d.ok
      ? d.error
      : deviceError
        ? deviceError
        : !n.ok
          ? n.error
          : undefined;
  const warnings: string[] = [];
  const mismatch = versionMismatch(d.version, n.version);
  if (mismatch) warnings.push(mismatch);
  return {
    available: reason === undefined && devices.length > 0,
    ...(reason !== undefined ? { reason } : {}),
    native: { loaded: !!native.addon, path: native.path, error: native.error },
    driver: {
      loaded: driverLoaded,
      path: d.path,
      version: d.version !== undefined ? formatCudaVersion(d.version) : undefined,
      error: d.error,
      searched: [...d.tried.map((t) => t.path), ...(d.path ? [d.path] : []), ...d.dirs],
    },
    nvrtc: {
      loaded: n.ok,
      path: n.path,
      version: n.version?.join("."),
      cubinArchs: n.archs,
      error: n.error,
      searched: [...n.tried.map((t) => t.path), ...(n.path ? [n.path] : []), ...n.dirs],
    },
    deviceCount: d.deviceCount,
    devices,
    warnings,
  };
}

/**
 * A warning when NVRTC's major version is newer than the driver's: the driver cannot load
 * CUBIN or PTX from a newer major toolkit (CUDA_ERROR_UNSUPPORTED_PTX_VERSION and friends).
 */
export function versionMismatch(driver: number | undefined, nvrtc: [number, number] | undefined): string | undefined {
  if (driver === undefined || nvrtc === undefined) return undefined;
  const driverMajor = Math.floor(driver / 1000);
  if (nvrtc[0] <= driverMajor) return undefined;
  return (
    `NVRTC ${nvrtc.join(".")} is newer than the driver (CUDA ${formatCudaVersion(driver)}): its kernels may fail to load; ` +
    `point KILN_NVRTC_PATH at an NVRTC ${driverMajor}.x`
  );
}

/** status() as a few human-readable lines (for the CLI and test skip messages). */
export function formatStatus(s: CudaStatus = status()): string {
  const lines = [
    `native addon: ${s.native.loaded ? s.native.path : `missing (${s.native.error})`}`,
    `CUDA driver: ${s.driver.loaded ? `${s.driver.path}, CUDA ${s.driver.version ?? "?"}` : "not found"}${s.driver.error ? ` - ${s.driver.error}` : ""}`,
    `NVRTC: ${s.nvrtc.loaded ? `${s.nvrtc.path}, ${s.nvrtc.version}` : "not found"}${s.nvrtc.error ? ` - ${s.nvrtc.error}` : ""}`,
  ];
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  for (const d of s.devices)
    lines.push(`gpu(${d.id}): ${d.name}, ${d.arch}, ${(d.totalMemory / 2 ** 30).toFixed(1)} GiB, ${d.smCount} SMs`);
  return lines.join("\n");
}
