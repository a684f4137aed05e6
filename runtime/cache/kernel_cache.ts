/**
 * The persistent kernel cache: compile once per distinct source, however many executors ask,
 * and once per machine across processes.
 *
 * Two levels: a per-process `Map` (memory) and one verified file per key in the cache
 * directory (disk). Disk entries are written atomically and verified on every read; a corrupt
 * entry is counted, removed and rebuilt, never returned. A cache directory that cannot be
 * written never fails a compile: the cache warns once and carries on memory-only.
 *
 * Environment: `KILN_CACHE_DIR` overrides the directory (default `$XDG_CACHE_HOME/kiln`, else
 * `~/.cache/kiln`); `KILN_CACHE=0` turns the disk level off.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type CompileKey, compileKeyHash, isKeyHash } from "./compile_key.js";
import { decodeEntry, encodeEntryHeader, sha256 } from "./entry_format.js";
import { readFileIfExists, removeQuietly, writeFileAtomic } from "./atomic_file.js";

export type { CompileKey } from "./compile_key.js";

/** Where a result came from: this process's memory, a verified disk entry, or a fresh build. */
export type CacheHit = "memory" | "disk" | "miss";

/** The outcome of a cache lookup or build. */
export interface CacheResult {
  /** The payload (compiled bytes). Shared with the cache: treat as read-only. */
  bytes: Uint8Array;
  /** Which level answered. */
  hit: CacheHit;
  /** {@link KernelCache.keyOf} of the compile key. */
  key: string;
  /**
   * Path of the verified payload on disk. From {@link KernelCache.getOrBuild} with a `suffix`,
   * the materialized payload file (exactly the payload, see {@link KernelCache.fileFor}; set
   * even when the disk level is off, then under a temp dir). Otherwise the entry file
   * (header + payload), set when the disk level is on and holds the entry.
   */
  path?: string;
}

/** Counters since construction (or the last {@link KernelCache.clearMemory}, which keeps them). */
export interface KernelCacheStats {
  /** Lookups answered from this process's memory. */
  memoryHits: number;
  /** Lookups answered from a verified disk entry. */
  diskHits: number;
  /** Lookups neither level could answer. */
  misses: number;
  /** Disk files (entries or materialized payloads) rejected by verification and removed. */
  corrupt: number;
  /** Calls of a `build` callback. */
  builds: number;
}

/** Options of {@link KernelCache}; anything left out comes from the environment. */
export interface KernelCacheOptions {
  /** Cache directory. Default: `KILN_CACHE_DIR`, else `$XDG_CACHE_HOME/kiln`, else `~/.cache/kiln`. */
  dir?: string;
  /** Whether to use the disk level. Default: on, unless `KILN_CACHE=0`. */
  disk?: boolean;
}

/** File extension of entries; a materialized payload may not use it (it would overwrite one). */
const ENTRY_EXT = ".kiln";

interface MemoryRecord {
  bytes: Uint8Array;
  /** sha256 of `bytes`, kept so materializing never rehashes from memory. */
  sha: Buffer;
  /** The entry file, when one holding these bytes was read or written. */
  entryPath?: string;
}

/** Temp dirs used when the disk level is off; removed at exit (dlopen'ed files survive unlink). */
const tempDirs = new Set<string>();
let exitHookInstalled = false;
function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-kernels-"));
  tempDirs.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const d of tempDirs) {
        try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ }
      }
    });
  }
  return dir;
}

/** The default cache directory from the environment (see the module comment). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KILN_CACHE_DIR) return path.resolve(env.KILN_CACHE_DIR);
  // The XDG spec says relative values are invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, "kiln");
  const home = os.homedir();
  if (home) return path.join(home, ".cache", "kiln");
  return path.join(os.tmpdir(), `kiln-cache-${os.userInfo().username}`);
}

/**
 * A two-level (memory, disk) cache of compiled kernel modules keyed by {@link CompileKey}.
 *
 * Everything is synchronous: compiles are synchronous in the runtime, and a synchronous build
 * makes "once per key per process" hold without in-flight bookkeeping.
 *
 * @example
 * ```ts
 * const cache = defaultKernelCache();
 * const r = cache.getOrBuild(key, () => compileWithGxx(key), { suffix: ".so" });
 * const lib = dlopen(r.path!); // a verified file holding exactly the payload
 * ```
 */
export class KernelCache {
  /** The disk level's directory; undefined when the disk level is off. */
  readonly dir: string | undefined;

  private readonly memory = new Map<string, MemoryRecord>();
  private readonly counters: KernelCacheStats = { memoryHits: 0, diskHits: 0, misses: 0, corrupt: 0, builds: 0 };
  /** Cleared after the first failed write: later entries stay memory-only (reads continue). */
  private diskWritable: boolean;
  private warned = false;
  private tempDir: string | undefined;
  private readonly building = new Set<string>();

  /**
   * @param opts - `dir` and `disk` override `KILN_CACHE_DIR` / `XDG_CACHE_HOME` / `HOME` and
   *   `KILN_CACHE=0`. The directory is created on the first write, not here.
   */
  constructor(opts: KernelCacheOptions = {}) {
    const disk = opts.disk ?? process.env.KILN_CACHE !== "0";
    this.dir = disk ? (opts.dir !== undefined ? path.resolve(opts.dir) : defaultCacheDir()) : undefined;
    this.diskWritable = disk;
  }

  /**
   * The cache key of `k`: sha256 (64 lower-case hex characters) over a canonical, unambiguous
   * encoding of every field. Throws a TypeError when a field has the wrong type.
   */
  static keyOf(k: CompileKey): string {
    return compileKeyHash(k);
  }

  /** Counters of hits, misses, corrupt entries and builds (a live view). */
  get stats(): Readonly<KernelCacheStats> {
    return this.counters;
  }

  /**
   * Looks `k` up in memory, then on disk (verifying the entry; a corrupt one is counted and
   * removed). Returns undefined, counting a miss, when neither level has it. Never builds.
   */
  get(k: CompileKey): CacheResult | undefined {
    const key = KernelCache.keyOf(k);
    const found = this.lookup(key);
    if (!found) this.counters.misses++;
    return found;
  }

  /**
   * Returns the cached bytes for `k`, or runs `build()` once (per key, per process) and stores
   * its output in memory and, when possible, on disk. An error from `build` propagates and
   * nothing is stored; a failure to write the disk entry only warns.
   *
   * @param opts - `suffix` (e.g. `".so"`): also materialize the payload as a file with that
   *   suffix and return its verified path in `path` (see {@link KernelCache.fileFor}).
   */
  getOrBuild(k: CompileKey, build: () => Uint8Array, opts: { suffix?: string } = {}): CacheResult {
    const key = KernelCache.keyOf(k);
    let result = this.lookup(key);
    if (!result) {
      this.counters.misses++;
      result = this.buildAndStore(key, build);
    }
    if (opts.suffix !== undefined) result = { ...result, path: this.fileFor(result, opts.suffix) };
    return result;
  }

  /**
   * A file holding exactly the payload of `result` (e.g. a `.so` for dlopen), named
   * `<key><suffix>` next to the disk entry, or in a per-process temp dir when the disk level is
   * off or unwritable. An existing file is reused only if its checksum matches; otherwise it is
   * (re)written atomically. The checksum is verified again before the path is returned, so the
   * file was complete and correct at that moment. Files are only ever replaced by rename, so a
   * library already loaded from an older copy is never modified underneath its mapping.
   *
   * @param suffix - 1 to 32 characters of `[A-Za-z0-9._-]`, not `".kiln"` (the entry suffix).
   */
  fileFor(result: CacheResult, suffix: string): string {
    if (!isKeyHash(result.key)) throw new TypeError(`fileFor: not a cache key: ${JSON.stringify(result.key)}`);
    if (!/^[A-Za-z0-9._-]{1,32}$/.test(suffix) || suffix === ENTRY_EXT) {
      throw new TypeError(`fileFor: bad suffix ${JSON.stringify(suffix)}`);
    }
    const record = this.memory.get(result.key);
    const bytes = record?.bytes ?? result.bytes;
    const sha = record?.sha ?? sha256(bytes);
    const name = result.key + suffix;
    if (this.dir !== undefined && this.diskWritable) {
      const file = path.join(this.shardDir(result.key), name);
      try {
        return this.materialize(file, bytes, sha);
      } catch (err) {
        this.warnOnce(`cannot write ${file}`, err);
      }
    }
    this.tempDir ??= makeTempDir();
    return this.materialize(path.join(this.tempDir, name), bytes, sha);
  }

  /** Forgets the memory level (the disk level and the counters are kept). */
  clearMemory(): void {
    this.memory.clear();
  }

  private lookup(key: string): CacheResult | undefined {
    const rec = this.memory.get(key);
    if (rec) {
      this.counters.memoryHits++;
      return this.resultOf(key, rec, "memory");
    }
    if (this.dir === undefined) return undefined;
    const file = this.entryPath(key);
    let raw: Buffer | undefined;
    try {
      raw = readFileIfExists(file);
    } catch (err) {
      this.warnOnce(`cannot read ${file}`, err, false);
      return undefined;
    }
    if (raw === undefined) return undefined;
    const entry = decodeEntry(raw, key);
    if (!entry.ok) {
      // Removing (rather than overwriting later) keeps a bad file from being read again even if
      // this process cannot rebuild it; a concurrent writer's rename simply replaces it.
      this.counters.corrupt++;
      removeQuietly(file);
      return undefined;
    }
    this.counters.diskHits++;
    const fresh: MemoryRecord = { bytes: entry.payload, sha: entry.payloadSha, entryPath: file };
    this.memory.set(key, fresh);
    return this.resultOf(key, fresh, "disk");
  }

  private buildAndStore(key: string, build: () => Uint8Array): CacheResult {
    if (this.building.has(key)) throw new Error(`KernelCache: build of ${key} asked for its own result`);
    this.building.add(key);
    let out: Uint8Array;
    try {
      this.counters.builds++;
      out = build();
    } finally {
      this.building.delete(key);
    }
    if (!(out instanceof Uint8Array)) throw new TypeError(`KernelCache: build of ${key} did not return a Uint8Array`);
    // A copy: the builder may reuse its buffer (or hand back a slice of Node's Buffer pool).
    const bytes = new Uint8Array(out);
    const rec: MemoryRecord = { bytes, sha: sha256(bytes) };
    if (this.dir !== undefined && this.diskWritable) {
      const file = this.entryPath(key);
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        writeFileAtomic(file, [encodeEntryHeader(key, bytes, rec.sha), bytes]);
        rec.entryPath = file;
      } catch (err) {
        this.warnOnce(`cannot write ${file}`, err);
      }
    }
    this.memory.set(key, rec);
    return this.resultOf(key, rec, "miss");
  }

  private resultOf(key: string, rec: MemoryRecord, hit: CacheHit): CacheResult {
    const r: CacheResult = { bytes: rec.bytes, hit, key };
    if (rec.entryPath !== undefined) r.path = rec.entryPath;
    return r;
  }

  /** Reuses `file` if it verifies; otherwise replaces it atomically and verifies the result. */
  private materialize(file: string, bytes: Uint8Array, sha: Buffer): string {
    const existing = readFileIfExists(file);
    if (existing !== undefined) {
      if (existing.length === bytes.byteLength && sha256(existing).equals(sha)) return file;
      this.counters.corrupt++;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, [bytes]);
    const back = readFileIfExists(file);
    if (back === undefined || back.length !== bytes.byteLength || !sha256(back).equals(sha)) {
      throw new Error(`KernelCache: ${file} does not hold the payload it was just written with`);
    }
    return file;
  }

  /** Two-hex-digit shards keep any one directory small on file systems that mind. */
  private shardDir(key: string): string {
    return path.join(this.dir as string, key.slice(0, 2));
  }

  private entryPath(key: string): string {
    return path.join(this.shardDir(key), key + ENTRY_EXT);
  }

  /** Warns on stderr the first time only; by default also stops further disk writes. */
  private warnOnce(what: string, err: unknown, stopWriting = true): void {
    if (stopWriting) this.diskWritable = false;
    if (this.warned) return;
    this.warned = true;
    const why = err instanceof Error ? err.message : String(err);
    const then = stopWriting ? "continuing with the memory cache only" : "treating it as a miss";
    process.stderr.write(`kiln: kernel cache: ${what} (${why}); ${then}\n`);
  }
}

let defaultCache: KernelCache | undefined;

/** The process-wide cache, created at first use from `KILN_CACHE_DIR`, `XDG_CACHE_HOME` and `KILN_CACHE`. */
export function defaultKernelCache(): KernelCache {
  return (defaultCache ??= new KernelCache());
}
