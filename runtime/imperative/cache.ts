/**
 * The executors behind imperative calls (`nd.dot(...)`, `a.plus(b)`), memoized per
 * (op, params, input shapes, dtypes, context) in a bounded LRU map. A hit reuses the bound
 * executor and so its compiled program: a loop calling `nd.dot` on same-shaped arrays compiles
 * once. Each entry holds its executor's own argument and output arrays (the inputs are copied
 * in, the outputs copied out), so the map is bounded both by entries and by the bytes those
 * arrays take; evicted executors are disposed (device memory and modules released).
 */
import type { Executor } from "../../compiler/symbol/binding.js";
import type { NDArray } from "../ndarray.js";

/** One memoized imperative call: the bound executor and its arrays in input order. */
export interface ImperativeEntry {
  readonly exe: Executor;
  /** The executor's argument arrays, in the order of the call's inputs (by variable name). */
  readonly args: readonly { name: string; array: NDArray }[];
  /** The executor's aux-state arrays (BatchNorm's moving statistics), by variable name. */
  readonly aux: readonly { name: string; array: NDArray }[];
  /** Bytes held by the executor's arrays. */
  readonly bytes: number;
}

export interface ImperativeCacheStats {
  /** Executors built (each compiles its program on first run). */
  readonly builds: number;
  /** Calls that reused a memoized executor. */
  readonly hits: number;
  readonly evictions: number;
  readonly entries: number;
  readonly bytes: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export interface ImperativeCacheLimits {
  /** Most executors kept (default 128). */
  maxEntries?: number;
  /** Most bytes of executor arrays kept (default 256 MiB); the newest entry is kept even if larger. */
  maxBytes?: number;
}

class ImperativeCache {
  private readonly map = new Map<string, ImperativeEntry>();
  private maxEntries = 128;
  private maxBytes = 256 * 2 ** 20;
  private heldBytes = 0;
  private counts = { builds: 0, hits: 0, evictions: 0 };

  /** The entry under `key` (now the most recent), or a new one from `build`. */
  getOrBuild(key: string, build: () => ImperativeEntry): ImperativeEntry {
    const hit = this.map.get(key);
    if (hit) {
      this.counts.hits++;
      this.map.delete(key);
      this.map.set(key, hit);
      return hit;
    }
    // Built outside the map: an op that fails to build leaves nothing behind.
    const e = build();
    this.counts.builds++;
    this.map.set(key, e);
    this.heldBytes += e.bytes;
    this.trim();
    return e;
  }

  /** Drops `key` (a call whose run failed, so that the next call starts afresh). */
  drop(key: string): void {
    const e = this.map.get(key);
    if (e) this.evict(key, e, false);
  }

  stats(): ImperativeCacheStats {
    return { ...this.counts, entries: this.map.size, bytes: this.heldBytes, maxEntries: this.maxEntries, maxBytes: this.maxBytes };
  }

  configure(limits: ImperativeCacheLimits): void {
    const check = (v: number | undefined, what: string): void => {
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new RangeError(`imperativeCache.${what} must be a positive integer, got ${v}`);
    };
    check(limits.maxEntries, "maxEntries");
    check(limits.maxBytes, "maxBytes");
    this.maxEntries = limits.maxEntries ?? this.maxEntries;
    this.maxBytes = limits.maxBytes ?? this.maxBytes;
    this.trim();
  }

  /** Disposes every memoized executor and zeroes the counters. */
  clear(): void {
    for (const [k, e] of [...this.map]) this.evict(k, e, false);
    this.counts = { builds: 0, hits: 0, evictions: 0 };
  }

  private trim(): void {
    for (const [k, e] of this.map) {
      if (this.map.size <= 1 || (this.map.size <= this.maxEntries && this.heldBytes <= this.maxBytes)) break;
      this.evict(k, e, true);
    }
  }

  private evict(key: string, e: ImperativeEntry, count: boolean): void {
    this.map.delete(key);
    this.heldBytes -= e.bytes;
    if (count) this.counts.evictions++;
    const d = (e.exe as Partial<{ dispose(): void }>).dispose;
    if (typeof d === "function") d.call(e.exe);
    for (const a of [...e.exe.argArrays, ...e.exe.auxArrays, ...e.exe.outputs]) a.dispose();
  }
}

/**
 * The process-wide cache of imperative executors: `stats()` (builds = compilations),
 * `configure({ maxEntries, maxBytes })`, `clear()`.
 */
export const imperativeCache = new ImperativeCache();
