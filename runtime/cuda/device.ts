/**
 * One CUDA device as Kiln uses it: its primary context, one stream that orders all of Kiln's
 * work on it, its properties and its caching allocator. Created at first use of `gpu(id)`.
 */
import type { NativeAddon } from "../native/native_api.js";
import { CachingAllocator, DeviceBlock } from "./allocator.js";
import { CudaUnavailableError } from "./errors.js";
import { probeDriver, requireDriver } from "./driver.js";

/** Driver attribute numbers (CUdevice_attribute in cuda.h). */
const ATTR = {
  maxThreadsPerBlock: 1,
  maxSharedMemoryPerBlock: 8,
  warpSize: 10,
  smCount: 16,
  l2CacheBytes: 38,
  ccMajor: 75,
  ccMinor: 76,
  maxSharedMemoryPerBlockOptin: 97,
} as const;

/** What Kiln needs to know about a device to compile and launch for it. */
export interface CudaDeviceProperties {
  id: number;
  name: string;
  /** [major, minor], e.g. [9, 0] for an H100. */
  computeCapability: [number, number];
  /** "sm_90" */
  arch: string;
  /** Bytes of device memory. */
  totalMemory: number;
  /** Streaming multiprocessors. */
  smCount: number;
  maxThreadsPerBlock: number;
  warpSize: number;
  /** Shared memory per block without opting in (48 KiB). */
  maxSharedMemoryPerBlock: number;
  /** Shared memory per block a kernel can opt in to (227 KiB on an H100). */
  maxSharedMemoryPerBlockOptin: number;
  l2CacheBytes: number;
}

/** Properties of device `id`, straight from the driver. */
export function queryDeviceProperties(cu: NativeAddon, id: number): CudaDeviceProperties {
  const dev = cu.cuDeviceGet(id);
  const attr = (a: number) => cu.cuDeviceGetAttribute(a, dev);
  const cc: [number, number] = [attr(ATTR.ccMajor), attr(ATTR.ccMinor)];
  return {
    id,
    name: cu.cuDeviceGetName(dev),
    computeCapability: cc,
    arch: `sm_${cc[0]}${cc[1]}`,
    totalMemory: cu.cuDeviceTotalMem(dev),
    smCount: attr(ATTR.smCount),
    maxThreadsPerBlock: attr(ATTR.maxThreadsPerBlock),
    warpSize: attr(ATTR.warpSize),
    maxSharedMemoryPerBlock: attr(ATTR.maxSharedMemoryPerBlock),
    maxSharedMemoryPerBlockOptin: attr(ATTR.maxSharedMemoryPerBlockOptin),
    l2CacheBytes: attr(ATTR.l2CacheBytes),
  };
}

/** The context made current last; switching costs a driver call, so it is skipped when unchanged. */
let currentContext: bigint | undefined;

export class CudaDevice {
  readonly props: CudaDeviceProperties;
  /** The device's one stream (blocking with respect to the legacy default stream). */
  readonly stream: bigint;
  readonly allocator: CachingAllocator;
  private readonly ctx: bigint;

  /** Use {@link cudaDevice}. */
  constructor(
    readonly cu: NativeAddon,
    readonly id: number,
  ) {
    this.props = queryDeviceProperties(cu, id);
    this.ctx = cu.cuDevicePrimaryCtxRetain(cu.cuDeviceGet(id));
    this.makeCurrent();
    this.stream = cu.cuStreamCreate(0);
    this.allocator = new CachingAllocator(
      {
        alloc: (bytes) => (this.makeCurrent(), cu.cuMemAlloc(bytes)),
        free: (ptr) => (this.makeCurrent(), cu.cuMemFree(ptr)),
        memInfo: () => (this.makeCurrent(), cu.cuMemGetInfo()),
      },
      `gpu(${id})`,
    );
  }

  /** Makes this device's context current for the driver calls that follow. */
  makeCurrent(): void {
    if (currentContext === this.ctx) return;
    this.cu.cuCtxSetCurrent(this.ctx);
    currentContext = this.ctx;
  }

  /** Waits for all work queued on the device's stream. */
  synchronize(): void {
    this.makeCurrent();
    this.cu.cuStreamSynchronize(this.stream);
  }

  /** A zero-filled block of at least `bytes` (the fill is queued on the stream). */
  allocZeroed(bytes: number): DeviceBlock {
    this.makeCurrent();
    const b = this.allocator.alloc(bytes);
    if (bytes > 0) this.cu.cuMemsetD8(b.ptr, 0, bytes, this.stream);
    return b;
  }

  /** Host bytes to device (queued on the stream; `src` may be reused on return). */
  upload(dst: bigint, src: ArrayBufferView): void {
    if (src.byteLength === 0) return;
    this.makeCurrent();
    this.cu.cuMemcpyHtoD(dst, src, this.stream);
  }

  /** Device bytes to host; complete on return (ordered after earlier work on the stream). */
  download(dst: ArrayBufferView, src: bigint): void {
    if (dst.byteLength === 0) return;
    this.makeCurrent();
    this.cu.cuMemcpyDtoH(dst, src, this.stream);
    // Pageable DtoH returns when done, but only a sync surfaces errors of earlier kernels here.
    this.cu.cuStreamSynchronize(this.stream);
  }

  copy(dst: bigint, src: bigint, bytes: number): void {
    if (bytes === 0) return;
    this.makeCurrent();
    this.cu.cuMemcpyDtoD(dst, src, bytes, this.stream);
  }

  /** [free, total] bytes as the driver sees them. */
  memoryInfo(): [number, number] {
    this.makeCurrent();
    return this.cu.cuMemGetInfo();
  }

  toString(): string {
    return `gpu(${this.id}) ${this.props.name} (${this.props.arch})`;
  }
}

const devices = new Map<number, CudaDevice>();

/**
 * Device `id`, initialized at first call. Throws a CudaUnavailableError naming what is missing
 * (addon, driver, device) when there is no such device.
 */
export function cudaDevice(id = 0): CudaDevice {
  let d = devices.get(id);
  if (d) return d;
  const cu = requireDriver(`gpu(${id})`);
  const count = probeDriver().deviceCount;
  if (!Number.isInteger(id) || id < 0 || id >= count)
    throw new CudaUnavailableError(`gpu(${id}): no such device (${count} CUDA device${count === 1 ? "" : "s"} visible)`);
  d = new CudaDevice(cu, id);
  devices.set(id, d);
  return d;
}

/** Devices initialized so far (for emptyCache and stats over all of them). */
export function initializedDevices(): CudaDevice[] {
  return [...devices.values()];
}
