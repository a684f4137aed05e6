/**
 * Memory planning (nnvm's PlanMemory, src/nnvm/plan_memory.cc) over the fused schedule.
 *
 * Entries that live outside the executor's pool (arguments, aux states, head gradients,
 * outputs and gradients written straight into bound arrays) are given; every other entry a
 * kernel writes gets a storage id. Walking the kernels in order with a reference count per
 * entry (its readers): a map kernel whose output reads an input at exactly the output's index
 * (elementwise), as that input's last reader, with equal size and dtype, writes in place over
 * the input's storage; otherwise the output takes a free block from the pool whose size is
 * within [size/16, size·16) — the smallest at least as big, else the biggest smaller one,
 * grown — or a new one. Inputs return their block to the pool when their count reaches 0.
 * Storage ids are finally laid out back to back in one arena.
 */
import type { DType } from "../base/dtype.js";
import type { ScheduledKernel } from "./lower.js";
import { loadsAtIdentity } from "./inline.js";

/** nnvm's match range: a block serves requests within a factor of 16 of its size. */
export const MATCH_RANGE = 16;
/** Every buffer starts at a multiple of this (vector loads, cache lines, CUDA's 256 B). */
export const ARENA_ALIGN = 256;

export interface PlanRequest {
  schedule: readonly ScheduledKernel[];
  /** Entries that are not in the pool. */
  isExternal(entry: number): boolean;
  bytes(entry: number): number;
  dtype(entry: number): DType;
  /** Pool entries read after the schedule ends (aux-state updates copied out): never freed. */
  keepAlive: ReadonlySet<number>;
  /** Allow in-place reuse (default true). */
  inplace?: boolean;
}

export interface MemoryPlan {
  /** Bytes and arena offset of each storage id. */
  readonly storage: readonly { readonly bytes: number; readonly offset: number }[];
  /** Storage id of every pool entry. */
  readonly entryStorage: ReadonlyMap<number, number>;
  /** Size of the arena (all storage ids, aligned). */
  readonly arenaBytes: number;
  /** Kernels that write over one of their inputs. */
  readonly inplaceCount: number;
}

const align = (n: number): number => Math.ceil(n / ARENA_ALIGN) * ARENA_ALIGN;

export function planMemory(req: PlanRequest): MemoryPlan {
  const inplace = req.inplace ?? true;
  const refs = new Map<number, number>();
  for (const k of req.schedule) for (const e of new Set(k.inputs)) refs.set(e, (refs.get(e) ?? 0) + 1);
  for (const e of req.keepAlive) refs.set(e, (refs.get(e) ?? 0) + 1);

  const sizes: number[] = [];
  const owners: number[] = [];
  const entryStorage = new Map<number, number>();
  /** Free blocks, sorted by size. */
  const free: { bytes: number; id: number }[] = [];
  let inplaceCount = 0;

  const release = (id: number): void => {
    if (--owners[id] > 0) return;
    const at = lowerBound(free, sizes[id]);
    free.splice(at, 0, { bytes: sizes[id], id });
  };
  const request = (bytes: number): number => {
    const mid = lowerBound(free, bytes);
    if (mid < free.length && free[mid].bytes < bytes * MATCH_RANGE) return free.splice(mid, 1)[0].id;
    if (mid > 0 && free[mid - 1].bytes >= bytes / MATCH_RANGE) {
      const id = free.splice(mid - 1, 1)[0].id;
      sizes[id] = Math.max(sizes[id], bytes);
      return id;
    }
    sizes.push(bytes);
    owners.push(0);
    return sizes.length - 1;
  };

  for (const k of req.schedule) {
    const out = k.output;
    if (!req.isExternal(out) && !entryStorage.has(out)) {
      let id: number | undefined;
      const st = k.kernel.stage;
      if (inplace && st.body.kind === "map" && !k.kernel.accumulate) {
        for (let slot = 0; slot < k.inputs.length && id === undefined; slot++) {
          const src = k.inputs[slot];
          const sid = entryStorage.get(src);
          if (sid === undefined || refs.get(src) !== 1 || owners[sid] !== 1) continue;
          if (req.bytes(src) !== req.bytes(out) || req.dtype(src) !== req.dtype(out)) continue;
          if (k.inputs.indexOf(src) !== slot) continue;
          const inType = st.inputs[slot];
          if (inType.shape.length !== st.out.shape.length || inType.shape.some((d, i) => d !== st.out.shape[i])) continue;
          if (!loadsAtIdentity(st.body.value, new Set([slot]), st.vars, st.out.shape)) continue;
          id = sid;
          inplaceCount++;
        }
      }
      id ??= request(req.bytes(out));
      owners[id]++;
      entryStorage.set(out, id);
    }
    for (const e of new Set(k.inputs)) {
      const left = (refs.get(e) ?? 0) - 1;
      refs.set(e, left);
      const sid = entryStorage.get(e);
      if (left === 0 && sid !== undefined) release(sid);
    }
    // An output nobody reads (and nothing keeps) goes back at once.
    const sid = entryStorage.get(out);
    if (sid !== undefined && (refs.get(out) ?? 0) === 0) release(sid);
  }

  let offset = 0;
  const storage = sizes.map((bytes) => {
    const s = { bytes, offset };
    offset += align(bytes);
    return s;
  });
  return { storage, entryStorage, arenaBytes: offset, inplaceCount };
}

function lowerBound(free: readonly { bytes: number }[], bytes: number): number {
  let lo = 0;
  let hi = free.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (free[mid].bytes < bytes) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
