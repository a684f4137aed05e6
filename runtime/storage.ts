/**
 * Where an NDArray's values live: host memory (the reference and cpu contexts) or a block of
 * device memory from a GPU's caching allocator. Both speak the dtype's little-endian binary
 * form; value conversions (float16 included) happen on the host, in host_buffer.ts.
 */
import { DType, DTYPE_BYTES } from "../compiler/base/dtype.js";
import { KilnError } from "../compiler/base/errors.js";
import { HostArray, allocHost, readHost, writeHost } from "./host_buffer.js";
import type { CudaDevice } from "./cuda/device.js";
import type { CachingAllocator, DeviceBlock } from "./cuda/allocator.js";

/** Values in host memory. `wide`: float64 whatever the dtype (the reference context). */
export class HostStorage {
  readonly kind = "host";
  readonly buf: HostArray;

  constructor(
    readonly dtype: DType,
    readonly size: number,
    readonly wide: boolean,
  ) {
    this.buf = allocHost(dtype, size, wide);
  }

  /** The dtype's binary form (a copy). */
  readBytes(): Uint8Array {
    if (!this.wide) return new Uint8Array(this.buf.buffer.slice(this.buf.byteOffset, this.buf.byteOffset + this.buf.byteLength));
    const tmp = allocHost(this.dtype, this.size, false);
    for (let i = 0; i < this.size; i++) writeHost(tmp, this.dtype, i, (this.buf as Float64Array)[i], false);
    return new Uint8Array(tmp.buffer);
  }

  /** Overwrites from the dtype's binary form (length checked by the caller). */
  writeBytes(bytes: Uint8Array): void {
    if (!this.wide) {
      new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength).set(bytes);
      return;
    }
    const narrow = allocHost(this.dtype, this.size, false);
    new Uint8Array(narrow.buffer).set(bytes);
    for (let i = 0; i < this.size; i++) (this.buf as Float64Array)[i] = readHost(narrow, this.dtype, i, false);
  }
}

/** Frees a device block when its NDArray is garbage-collected without dispose(). */
const finalizer = new FinalizationRegistry<{ allocator: CachingAllocator; block: DeviceBlock }>(({ allocator, block }) =>
  allocator.free(block),
);

/** Values in GPU memory: one allocator block (none for an empty array). */
export class DeviceStorage {
  readonly kind = "device";
  readonly byteLength: number;
  private block: DeviceBlock | undefined;
  /** Kept here, not read from the block: a freed block may already serve another array. */
  private disposed = false;

  /** Allocates zero-filled memory for `size` values of `dtype` on `device`; `owner` is the NDArray. */
  constructor(
    readonly device: CudaDevice,
    readonly dtype: DType,
    readonly size: number,
    owner: object,
  ) {
    this.byteLength = size * DTYPE_BYTES[dtype];
    if (this.byteLength > 0) {
      this.block = device.allocZeroed(this.byteLength);
      finalizer.register(owner, { allocator: device.allocator, block: this.block }, this);
    }
  }

  /** The device address (0n for an empty array). */
  get ptr(): bigint {
    if (this.disposed) throw new KilnError(`gpu(${this.device.id}) array used after dispose()`);
    return this.block?.ptr ?? 0n;
  }

  /** The values on the host, in the dtype's own form (a fresh copy). */
  download(): HostArray {
    const out = allocHost(this.dtype, this.size, false);
    this.device.download(out, this.ptr);
    return out;
  }

  readBytes(): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    this.device.download(out, this.ptr);
    return out;
  }

  /** Overwrites from host bytes or a host array of the dtype's own form (length checked by the caller). */
  writeBytes(src: ArrayBufferView): void {
    this.device.upload(this.ptr, src);
  }

  /** Copies all bytes from another array's storage on the same device. */
  copyFrom(src: DeviceStorage): void {
    this.device.copy(this.ptr, src.ptr, this.byteLength);
  }

  /** Returns the block to the allocator now; later use of the array throws. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (!this.block) return;
    finalizer.unregister(this);
    this.device.allocator.free(this.block);
  }
}

export type ArrayStorage = HostStorage | DeviceStorage;
