/**
 * A caching allocator of device memory, one per device (the policy lives here, the driver
 * calls behind a small backend interface so the policy is testable without a GPU).
 *
 * Requests are rounded to size classes (512 B steps up to 1 MiB, then eight steps per power of
 * two, so at most 12.5% is wasted) and a freed block goes to its class's free list, where the
 * next request of that class takes it without a driver call. Blocks are never split, so
 * memory is only ever returned to the driver by `emptyCache()`, or when an allocation fails
 * and the cache is emptied before one retry. All work is ordered on the device's one stream,
 * so a block freed while a kernel still uses it is only reused by later work on that stream.
 */
import { KilnError } from "../../compiler/base/errors.js";
import { CUDA_ERROR_OUT_OF_MEMORY, CudaError } from "./errors.js";

/** What the allocator needs from a device. */
export interface AllocatorBackend {
  /** A new allocation of exactly `bytes`; throws a CudaError on failure. */
  alloc(bytes: number): bigint;
  free(ptr: bigint): void;
  /** [free, total] bytes on the device. */
  memInfo(): [number, number];
}

/** A block of device memory handed out by {@link CachingAllocator.alloc}. */
export interface DeviceBlock {
  /** The device address. */
  readonly ptr: bigint;
  /** Bytes reserved (the size class). */
  readonly size: number;
  /** Bytes asked for. */
  readonly requested: number;
  /** True once returned to the allocator. */
  readonly freed: boolean;
}

class Block implements DeviceBlock {
  freed = false;
  requested = 0;
  constructor(
    readonly ptr: bigint,
    readonly size: number,
  ) {}
}

/** Counters of one allocator. */
export interface AllocatorStats {
  /** Bytes in blocks handed out and not freed (size classes, not requests). */
  currentBytes: number;
  /** Highest `currentBytes` since creation or `resetPeak()`. */
  peakBytes: number;
  /** Bytes held from the driver: in use plus cached. */
  reservedBytes: number;
  /** Bytes in freed blocks kept for reuse. */
  cachedBytes: number;
  /** Requests served from the cache. */
  reuses: number;
  /** Calls of the driver's allocation. */
  driverAllocs: number;
  /** Calls of the driver's free. */
  driverFrees: number;
}

const MiB = 1 << 20;

/** The size class of a request of `bytes`. */
export function roundAllocation(bytes: number): number {
  if (!Number.isFinite(bytes) || bytes < 0) throw new KilnError(`device allocation of ${bytes} bytes`);
  if (bytes <= MiB) return Math.max(512, Math.ceil(bytes / 512) * 512);
  const step = 2 ** (Math.floor(Math.log2(bytes)) - 3);
  return Math.ceil(bytes / step) * step;
}

export class CachingAllocator {
  private readonly pools = new Map<number, Block[]>();
  private readonly s: AllocatorStats = {
    currentBytes: 0, peakBytes: 0, reservedBytes: 0, cachedBytes: 0, reuses: 0, driverAllocs: 0, driverFrees: 0,
  };

  constructor(
    private readonly backend: AllocatorBackend,
    /** Names the device in messages, e.g. "gpu(0)". */
    readonly label: string,
  ) {}

  /** A block of at least `bytes`; reuses a cached block of the same size class when it can. */
  alloc(bytes: number): DeviceBlock {
    const size = roundAllocation(bytes);
    const pool = this.pools.get(size);
    let block = pool?.pop();
    if (block) {
      this.s.reuses++;
      this.s.cachedBytes -= size;
      block.freed = false;
    } else {
      block = new Block(this.driverAlloc(size, bytes), size);
    }
    block.requested = bytes;
    this.s.currentBytes += size;
    this.s.peakBytes = Math.max(this.s.peakBytes, this.s.currentBytes);
    return block;
  }

  /** Returns a block to the cache; freeing twice is a no-op. */
  free(block: DeviceBlock): void {
    if (!(block instanceof Block)) throw new KilnError(`${this.label}: free of a block this allocator did not make`);
    if (block.freed) return;
    block.freed = true;
    this.s.currentBytes -= block.size;
    this.s.cachedBytes += block.size;
    let pool = this.pools.get(block.size);
    if (!pool) this.pools.set(block.size, (pool = []));
    pool.push(block);
  }

  /** Gives every cached (free) block back to the driver. */
  emptyCache(): void {
    for (const pool of this.pools.values()) {
      for (const b of pool) {
        this.backend.free(b.ptr);
        this.s.driverFrees++;
        this.s.reservedBytes -= b.size;
        this.s.cachedBytes -= b.size;
      }
    }
    this.pools.clear();
  }

  /** A snapshot of the counters. */
  get stats(): AllocatorStats {
    return { ...this.s };
  }

  resetPeak(): void {
    this.s.peakBytes = this.s.currentBytes;
  }

  private driverAlloc(size: number, requested: number): bigint {
    try {
      return this.count(this.backend.alloc(size), size);
    } catch (err) {
      if (!isOutOfMemory(err)) throw err;
    }
    // Cached blocks of other size classes may be what stands in the way.
    this.emptyCache();
    try {
      return this.count(this.backend.alloc(size), size);
    } catch (err) {
      if (!isOutOfMemory(err)) throw err;
      let free = "unknown";
      let total = "unknown";
      try {
        const [f, t] = this.backend.memInfo();
        free = mib(f);
        total = mib(t);
      } catch {
        /* report what we know */
      }
      throw new KilnError(
        `${this.label}: out of memory allocating ${mib(size)} (${requested} bytes requested); ` +
          `the device has ${free} free of ${total}; Kiln holds ${mib(this.s.currentBytes)} in live arrays ` +
          `(peak ${mib(this.s.peakBytes)}) after emptying its cache`,
      );
    }
  }

  private count(ptr: bigint, size: number): bigint {
    this.s.driverAllocs++;
    this.s.reservedBytes += size;
    return ptr;
  }
}

function isOutOfMemory(err: unknown): boolean {
  return err instanceof CudaError && err.code === CUDA_ERROR_OUT_OF_MEMORY;
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
