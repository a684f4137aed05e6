/**
 * `cuda`: the CUDA device layer. Importing it touches no library; the driver and NVRTC are
 * found and loaded at first use, and `cuda.status()` reports on them without throwing.
 */
import { CudaDevice, cudaDevice, initializedDevices } from "./device.js";
import { CudaCompileOptions, compileCuda } from "./compile.js";
import { CudaModule } from "./module.js";
import { CudaEvent, timeOnDevice } from "./event.js";
import { CaptureMode, CudaGraph, captureGraph } from "./graph.js";
import { probeDriver } from "./driver.js";
import { formatStatus, status } from "./status.js";

export { CudaDevice, type CudaDeviceProperties } from "./device.js";
export { CachingAllocator, roundAllocation, type AllocatorStats, type DeviceBlock } from "./allocator.js";
export { CudaModule, CudaKernel, type CudaKernelArg, type LaunchConfig, type Dim3 } from "./module.js";
export { CudaEvent } from "./event.js";
export { CudaGraph, type CaptureMode } from "./graph.js";
export { CudaError, CudaUnavailableError } from "./errors.js";
export { CudaCompileError, type CudaCompileOptions, type CudaImage } from "./compile.js";
export type { CudaStatus } from "./status.js";

export const cuda = {
  /** What is available (addon, driver, NVRTC, devices) and why not; never throws. */
  status,
  /** status() as text. */
  formatStatus,
  /** True when a GPU can run Kiln's kernels. */
  isAvailable: (): boolean => status().available,
  /** Number of visible CUDA devices (0 without a driver). */
  deviceCount: (): number => probeDriver().deviceCount,
  /** Device `id`, initialized at first use; throws CudaUnavailableError without one. */
  device: (id = 0): CudaDevice => cudaDevice(id),
  /** Compiles CUDA source for device `id` with NVRTC (cached) and loads it. */
  compile(source: string, opts: CudaCompileOptions & { device?: number } = {}): CudaModule {
    const dev = cudaDevice(opts.device ?? 0);
    return new CudaModule(dev, compileCuda(source, dev.props.computeCapability, opts));
  },
  /** A new event on device `id`'s stream. */
  event: (id = 0): CudaEvent => new CudaEvent(cudaDevice(id)),
  /** Milliseconds of GPU time of the work `fn` queues on device `id`. */
  time: (fn: () => void, id = 0): number => timeOnDevice(cudaDevice(id), fn),
  /** Captures the work `record` queues on device `id` into a replayable graph. */
  capture: (record: () => void, opts: { device?: number; mode?: CaptureMode } = {}): CudaGraph =>
    captureGraph(cudaDevice(opts.device ?? 0), record, opts.mode),
  /** Waits for all queued work on every initialized device. */
  synchronize(): void {
    for (const d of initializedDevices()) d.synchronize();
  },
  /** Returns every initialized device's cached free blocks to the driver. */
  emptyCache(): void {
    for (const d of initializedDevices()) d.allocator.emptyCache();
  },
};
