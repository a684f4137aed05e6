import { expect } from "chai";
import { CachingAllocator, roundAllocation } from "../../../runtime/cuda/allocator.js";
import { CudaError } from "../../../runtime/cuda/errors.js";

/** A device of `capacity` bytes that counts driver calls. */
function fakeDevice(capacity: number) {
  let next = 0x1000n;
  const live = new Map<bigint, number>();
  const used = () => [...live.values()].reduce((a, b) => a + b, 0);
  return {
    live,
    backend: {
      alloc(bytes: number): bigint {
        if (used() + bytes > capacity) throw new CudaError("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2)", "cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY");
        const p = next;
        next += BigInt(bytes);
        live.set(p, bytes);
        return p;
      },
      free(ptr: bigint): void {
        if (!live.delete(ptr)) throw new Error(`double free of ${ptr}`);
      },
      memInfo: (): [number, number] => [capacity - used(), capacity],
    },
  };
}

describe("caching device allocator (policy, without a GPU)", () => {
  it("rounds requests to size classes", () => {
    expect(roundAllocation(0)).to.equal(512);
    expect(roundAllocation(1)).to.equal(512);
    expect(roundAllocation(513)).to.equal(1024);
    expect(roundAllocation(1 << 20)).to.equal(1 << 20);
    expect(roundAllocation((1 << 20) + 1)).to.equal((1 << 20) + (1 << 17));
    expect(roundAllocation(3e9)).to.be.within(3e9, 3e9 * 1.125);
    for (const n of [700, 5000, 123457, 9_999_999]) expect(roundAllocation(n) / n).to.be.below(n > 1 << 20 ? 1.125 : 1.74);
  });

  it("reuses freed blocks of the same class without calling the driver", () => {
    const dev = fakeDevice(1 << 30);
    const a = new CachingAllocator(dev.backend, "gpu(0)");
    const b1 = a.alloc(1000);
    a.free(b1);
    const b2 = a.alloc(900); // same 1024-byte class
    expect(b2.ptr).to.equal(b1.ptr);
    expect(a.stats.driverAllocs).to.equal(1);
    expect(a.stats.reuses).to.equal(1);
    a.free(b2);
    a.free(b2); // double free is a no-op
    expect(a.stats.cachedBytes).to.equal(1024);
  });

  it("tracks current, peak and reserved bytes; emptyCache returns cached blocks", () => {
    const dev = fakeDevice(1 << 30);
    const a = new CachingAllocator(dev.backend, "gpu(0)");
    const x = a.alloc(4096);
    const y = a.alloc(8192);
    expect(a.stats.currentBytes).to.equal(12288);
    a.free(x);
    expect(a.stats).to.include({ currentBytes: 8192, peakBytes: 12288, reservedBytes: 12288, cachedBytes: 4096 });
    a.emptyCache();
    expect(a.stats).to.include({ reservedBytes: 8192, cachedBytes: 0, driverFrees: 1 });
    expect(dev.live.size).to.equal(1);
    a.resetPeak();
    expect(a.stats.peakBytes).to.equal(8192);
    a.free(y);
  });

  it("on out of memory empties the cache and retries once, then says how much was asked and free", () => {
    const dev = fakeDevice(64 * 1024);
    const a = new CachingAllocator(dev.backend, "gpu(0)");
    const small = a.alloc(32 * 1024);
    a.free(small); // cached, still held from the driver
    const big = a.alloc(48 * 1024); // only fits after the cache is emptied
    expect(a.stats.driverFrees).to.equal(1);
    expect(() => a.alloc(40 * 1024)).to.throw(/gpu\(0\): out of memory allocating 0\.0 MiB \(40960 bytes requested\); the device has 0\.0 MiB free of 0\.1 MiB/);
    a.free(big);
  });

  it("rejects blocks it did not make and passes other driver errors through", () => {
    const dev = fakeDevice(1 << 20);
    const a = new CachingAllocator(dev.backend, "gpu(0)");
    expect(() => a.free({ ptr: 1n, size: 512, requested: 1, freed: false })).to.throw(/did not make/);
    const broken = new CachingAllocator({ ...dev.backend, alloc: () => { throw new CudaError("x", "cuMemAlloc_v2", 700, "CUDA_ERROR_ILLEGAL_ADDRESS"); } }, "gpu(1)");
    expect(() => broken.alloc(10)).to.throw(CudaError, "x");
  });
});
