import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { KernelCache, defaultCacheDir, type CompileKey, type CacheResult } from "../../runtime/cache/kernel_cache.js";
import { ENTRY_HEADER_BYTES } from "../../runtime/cache/entry_format.js";

const MODULE_URL = new URL("../../runtime/cache/kernel_cache.js", import.meta.url).href;

const baseKey: CompileKey = {
  target: "cpu:x86_64",
  source: "extern \"C\" void k(float* y, const float* x, int n) { for (int i = 0; i < n; ++i) y[i] = x[i] * 2; }",
  compiler: "g++",
  compilerVersion: "g++ (Ubuntu 13.2.0) 13.2.0",
  options: ["-O3", "-shared", "-fPIC"],
};

function payloadOf(size: number, seed = 7): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 255;
  return b;
}
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const never = (): Uint8Array => {
  throw new Error("build must not be called");
};

/** Runs `fn` with environment variables set (undefined = unset), restoring them afterwards. */
function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Captures what is written to stderr while `fn` runs. */
function captureStderr<T>(fn: () => T): { value: T; text: string } {
  const orig = process.stderr.write.bind(process.stderr);
  let text = "";
  (process.stderr as { write: unknown }).write = (chunk: string | Uint8Array): boolean => {
    text += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    return true;
  };
  try {
    return { value: fn(), text };
  } finally {
    process.stderr.write = orig;
  }
}

/** Every file under `dir`, relative, sorted. */
function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
}

/** A child process: builds (or reads) one key through a fresh KernelCache and reports as JSON. */
const CHILD = `
const { KernelCache, defaultKernelCache } = await import(process.env.KC_MODULE);
const k = JSON.parse(process.env.KC_KEY);
const size = Number(process.env.KC_SIZE);
const payload = () => { const b = new Uint8Array(size); for (let i = 0; i < size; i++) b[i] = (i * 31 + 7) & 255; return b; };
const eq = (a, b) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
const mode = process.env.KC_MODE;
const out = {};
if (mode === "build") {
  while (Date.now() < Number(process.env.KC_START_AT ?? 0)) { /* start together */ }
  let built = 0;
  const c = new KernelCache();
  const r = c.getOrBuild(k, () => { built++; return payload(); });
  const check = new KernelCache().get(k);
  Object.assign(out, { hit: r.hit, built, stats: { ...c.stats }, ok: eq(r.bytes, payload()),
    verifyHit: check?.hit, verifyOk: check !== undefined && eq(check.bytes, payload()) });
} else if (mode === "read-loop") {
  const c = new KernelCache();
  let reads = 0, hits = 0, bad = 0;
  while (Date.now() < Number(process.env.KC_UNTIL)) {
    c.clearMemory();
    const r = c.get(k);
    reads++;
    if (r) { hits++; if (!eq(r.bytes, payload())) bad++; }
  }
  Object.assign(out, { reads, hits, bad, corrupt: c.stats.corrupt });
} else if (mode === "default") {
  const c = defaultKernelCache();
  Object.assign(out, { dir: c.dir ?? null, same: c === defaultKernelCache() });
}
process.stdout.write(JSON.stringify(out));
`;

interface ChildReport {
  hit?: string; built?: number; ok?: boolean; verifyHit?: string; verifyOk?: boolean;
  stats?: { memoryHits: number; diskHits: number; misses: number; corrupt: number; builds: number };
  reads?: number; hits?: number; bad?: number; corrupt?: number; dir?: string | null; same?: boolean;
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KC_MODULE: MODULE_URL, KC_KEY: JSON.stringify(baseKey), KC_SIZE: "4096", ...extra };
  for (const v of ["KILN_CACHE", "KILN_CACHE_DIR", "XDG_CACHE_HOME"]) if (!(v in extra)) delete env[v];
  return env;
}

function runChildSync(extra: Record<string, string>): ChildReport {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", CHILD], { env: childEnv(extra), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ChildReport;
}

function runChild(extra: Record<string, string>): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--input-type=module", "-e", CHILD], { env: childEnv(extra) });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("error", reject);
    p.on("close", (code) => {
      if (code !== 0) reject(new Error(`child failed (${code}): ${err}`));
      else resolve(JSON.parse(out) as ChildReport);
    });
  });
}

describe("KernelCache", () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-cache-test-"));
  });
  afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe("keyOf", () => {
    it("is a stable sha256 hex over all fields", () => {
      const key = KernelCache.keyOf(baseKey);
      expect(key).to.match(/^[0-9a-f]{64}$/);
      expect(KernelCache.keyOf({ ...baseKey, options: [...baseKey.options] })).to.equal(key);
      // Pinned: a change of encoding silently invalidates every user's cache, so make it deliberate.
      expect(KernelCache.keyOf({ target: "t", source: "s", compiler: "c", compilerVersion: "v", options: ["o"] }))
        .to.equal(createHash("sha256").update(JSON.stringify(["kiln-compile-key/1", "t", "s", "c", "v", ["o"]])).digest("hex"));
    });

    it("changes with every field", () => {
      const key = KernelCache.keyOf(baseKey);
      const variants: CompileKey[] = [
        { ...baseKey, target: "cuda:sm_90" },
        { ...baseKey, source: baseKey.source + " " },
        { ...baseKey, compiler: "clang++" },
        { ...baseKey, compilerVersion: "g++ (Ubuntu 13.2.0) 13.2.1" },
        { ...baseKey, options: ["-O2", "-shared", "-fPIC"] },
        { ...baseKey, options: ["-shared", "-O3", "-fPIC"] },
        { ...baseKey, options: [...baseKey.options, ""] },
      ];
      const keys = new Set(variants.map((v) => KernelCache.keyOf(v)));
      expect(keys.size).to.equal(variants.length);
      expect(keys.has(key)).to.equal(false);
    });

    it("has no ambiguity between option lists or across field boundaries", () => {
      const k = (p: Partial<CompileKey>): string => KernelCache.keyOf({ ...baseKey, ...p });
      expect(k({ options: ["a b"] })).to.not.equal(k({ options: ["a", "b"] }));
      expect(k({ options: ["a,b"] })).to.not.equal(k({ options: ["a", "b"] }));
      expect(k({ options: ['a","b'] })).to.not.equal(k({ options: ["a", "b"] }));
      expect(k({ options: [] })).to.not.equal(k({ options: [""] }));
      expect(k({ target: "ab", source: "c" })).to.not.equal(k({ target: "a", source: "bc" }));
      expect(k({ compiler: "g++\n", compilerVersion: "1" })).to.not.equal(k({ compiler: "g++", compilerVersion: "\n1" }));
      expect(k({ source: "\ud800" })).to.not.equal(k({ source: "\ufffd" }));
    });

    it("rejects fields of the wrong type", () => {
      expect(() => KernelCache.keyOf({ ...baseKey, options: "-O3" } as unknown as CompileKey)).to.throw(TypeError, /options/);
      expect(() => KernelCache.keyOf({ ...baseKey, compilerVersion: undefined } as unknown as CompileKey)).to.throw(TypeError, /compilerVersion/);
    });
  });

  describe("memory and disk levels", () => {
    it("miss -> builds once -> memory hit", () => {
      const c = new KernelCache({ dir: tmp });
      let builds = 0;
      const build = (): Uint8Array => (builds++, payloadOf(1000));
      const a = c.getOrBuild(baseKey, build);
      expect(a.hit).to.equal("miss");
      expect(a.key).to.equal(KernelCache.keyOf(baseKey));
      expect(same(a.bytes, payloadOf(1000))).to.equal(true);
      for (let i = 0; i < 5; i++) expect(c.getOrBuild(baseKey, build).hit).to.equal("memory");
      expect(c.get(baseKey)?.hit).to.equal("memory");
      expect(builds).to.equal(1);
      expect(c.stats).to.deep.equal({ memoryHits: 6, diskHits: 0, misses: 1, corrupt: 0, builds: 1 });
      expect(a.path).to.be.a("string");
      expect(fs.existsSync(a.path as string)).to.equal(true);
      expect(path.relative(tmp, a.path as string).startsWith("..")).to.equal(false);
    });

    it("get() on an unknown key is a miss and never builds", () => {
      const c = new KernelCache({ dir: tmp });
      expect(c.get(baseKey)).to.equal(undefined);
      expect(c.stats.misses).to.equal(1);
      expect(listFiles(tmp)).to.deep.equal([]);
    });

    it("a new KernelCache on the same dir hits the disk without building", () => {
      new KernelCache({ dir: tmp }).getOrBuild(baseKey, () => payloadOf(5000));
      const c = new KernelCache({ dir: tmp });
      const r = c.getOrBuild(baseKey, never);
      expect(r.hit).to.equal("disk");
      expect(same(r.bytes, payloadOf(5000))).to.equal(true);
      expect(r.bytes).to.be.instanceOf(Uint8Array);
      expect(c.getOrBuild(baseKey, never).hit).to.equal("memory");
      expect(c.stats).to.deep.equal({ memoryHits: 1, diskHits: 1, misses: 0, corrupt: 0, builds: 0 });
      c.clearMemory();
      expect(c.get(baseKey)?.hit).to.equal("disk");
    });

    it("stores the empty payload", () => {
      new KernelCache({ dir: tmp }).getOrBuild(baseKey, () => new Uint8Array(0));
      const r = new KernelCache({ dir: tmp }).getOrBuild(baseKey, never);
      expect(r.hit).to.equal("disk");
      expect(r.bytes.byteLength).to.equal(0);
    });

    it("copies the builder's bytes, and propagates a build error without storing anything", () => {
      const c = new KernelCache({ dir: tmp });
      const buf = payloadOf(64);
      c.getOrBuild(baseKey, () => buf);
      buf.fill(0);
      expect(same(c.getOrBuild(baseKey, never).bytes, payloadOf(64))).to.equal(true);
      const other = { ...baseKey, source: "broken" };
      expect(() => c.getOrBuild(other, () => { throw new Error("compile error: line 1"); })).to.throw(/line 1/);
      expect(c.get(other)).to.equal(undefined);
    });

    it("a second process hits the disk cache and does not build", () => {
      const first = runChildSync({ KC_MODE: "build", KILN_CACHE_DIR: tmp });
      expect(first).to.include({ hit: "miss", built: 1, ok: true, verifyHit: "disk", verifyOk: true });
      const second = runChildSync({ KC_MODE: "build", KILN_CACHE_DIR: tmp });
      expect(second).to.include({ hit: "disk", built: 0, ok: true });
      expect(second.stats).to.deep.equal({ memoryHits: 0, diskHits: 1, misses: 0, corrupt: 0, builds: 0 });
      // And this process sees the child's entry too.
      const r = new KernelCache({ dir: tmp }).getOrBuild(baseKey, never);
      expect(r.hit).to.equal("disk");
      expect(same(r.bytes, payloadOf(4096))).to.equal(true);
    });
  });

  describe("corrupt entries", () => {
    const size = 300;
    /** Writes a valid entry, lets `damage` edit its bytes, then checks detection and rebuild. */
    function expectRebuilt(damage: (file: Buffer, entryPath: string) => Buffer | undefined, what: string): void {
      const r = new KernelCache({ dir: tmp }).getOrBuild(baseKey, () => payloadOf(size));
      const entry = r.path as string;
      const bad = damage(fs.readFileSync(entry), entry);
      if (bad) fs.writeFileSync(entry, bad);

      const c = new KernelCache({ dir: tmp });
      let builds = 0;
      const again = c.getOrBuild(baseKey, () => (builds++, payloadOf(size)));
      expect(again.hit, what).to.equal("miss");
      expect(builds, what).to.equal(1);
      expect(c.stats.corrupt, what).to.equal(1);
      expect(same(again.bytes, payloadOf(size)), what).to.equal(true);
      // The rebuilt entry is valid again.
      const d = new KernelCache({ dir: tmp });
      expect(d.getOrBuild(baseKey, never).hit, what).to.equal("disk");
      expect(d.stats.corrupt, what).to.equal(0);
    }

    it("detects truncation (inside the payload, inside the header, empty file)", () => {
      expectRebuilt((f) => f.subarray(0, f.length - 1), "one byte short");
      expectRebuilt((f) => f.subarray(0, ENTRY_HEADER_BYTES + 10), "half a payload");
      expectRebuilt((f) => f.subarray(0, 40), "half a header");
      expectRebuilt(() => Buffer.alloc(0), "empty");
    });

    it("detects trailing garbage", () => {
      expectRebuilt((f) => Buffer.concat([f, Buffer.from([0])]), "one extra byte");
    });

    it("detects a flipped payload byte", () => {
      for (const at of [0, 1, size / 2, size - 1]) {
        expectRebuilt((f) => ((f[ENTRY_HEADER_BYTES + at] ^= 0x01), f), `payload byte ${at}`);
      }
    });

    it("detects a flipped byte anywhere in the header", () => {
      for (let at = 0; at < ENTRY_HEADER_BYTES; at++) expectRebuilt((f) => ((f[at] ^= 0x80), f), `header byte ${at}`);
    });

    it("detects an entry stored under the wrong key", () => {
      const other: CompileKey = { ...baseKey, source: "another kernel" };
      const o = new KernelCache({ dir: tmp }).getOrBuild(other, () => payloadOf(size));
      expectRebuilt((_f, entry) => {
        fs.copyFileSync(o.path as string, entry); // a well-formed entry, for a different key
        return undefined;
      }, "wrong key");
    });

    it("get() never returns a corrupt entry and removes it", () => {
      const r = new KernelCache({ dir: tmp }).getOrBuild(baseKey, () => payloadOf(size));
      const f = fs.readFileSync(r.path as string);
      f[f.length - 1] ^= 0xff;
      fs.writeFileSync(r.path as string, f);
      const c = new KernelCache({ dir: tmp });
      expect(c.get(baseKey)).to.equal(undefined);
      expect(c.stats).to.include({ corrupt: 1, misses: 1 });
      expect(fs.existsSync(r.path as string)).to.equal(false);
    });
  });

  describe("configuration", () => {
    it("KILN_CACHE=0 keeps the memory level and writes nothing to disk", () => {
      withEnv({ KILN_CACHE: "0", KILN_CACHE_DIR: tmp }, () => {
        const c = new KernelCache();
        expect(c.dir).to.equal(undefined);
        const r = c.getOrBuild(baseKey, () => payloadOf(100));
        expect(r.hit).to.equal("miss");
        expect(r.path).to.equal(undefined);
        expect(c.getOrBuild(baseKey, never).hit).to.equal("memory");
        const so = c.fileFor(r, ".so");
        expect(path.relative(tmp, so).startsWith("..")).to.equal(true);
        expect(same(fs.readFileSync(so), payloadOf(100))).to.equal(true);
      });
      expect(listFiles(tmp)).to.deep.equal([]);
      expect(new KernelCache({ dir: tmp }).get(baseKey)).to.equal(undefined);
    });

    it("resolves the directory from KILN_CACHE_DIR, then XDG_CACHE_HOME, then HOME", () => {
      withEnv({ KILN_CACHE: undefined, KILN_CACHE_DIR: tmp, XDG_CACHE_HOME: "/xdg" }, () => {
        expect(new KernelCache().dir).to.equal(tmp);
        expect(new KernelCache({ dir: path.join(tmp, "x") }).dir).to.equal(path.join(tmp, "x"));
        expect(new KernelCache({ disk: false }).dir).to.equal(undefined);
      });
      withEnv({ KILN_CACHE_DIR: undefined, XDG_CACHE_HOME: "/xdg" }, () => expect(defaultCacheDir()).to.equal("/xdg/kiln"));
      withEnv({ KILN_CACHE_DIR: undefined, XDG_CACHE_HOME: "relative" }, () =>
        expect(defaultCacheDir()).to.equal(path.join(os.homedir(), ".cache", "kiln")));
      withEnv({ KILN_CACHE_DIR: undefined, XDG_CACHE_HOME: undefined }, () =>
        expect(defaultCacheDir()).to.equal(path.join(os.homedir(), ".cache", "kiln")));
    });

    it("defaultKernelCache() is one per process and honours the environment", () => {
      expect(runChildSync({ KC_MODE: "default", KILN_CACHE_DIR: tmp })).to.deep.equal({ dir: tmp, same: true });
      expect(runChildSync({ KC_MODE: "default", KILN_CACHE_DIR: tmp, KILN_CACHE: "0" })).to.deep.equal({ dir: null, same: true });
      expect(runChildSync({ KC_MODE: "default", XDG_CACHE_HOME: tmp })).to.deep.equal({ dir: path.join(tmp, "kiln"), same: true });
    });
  });

  describe("unwritable cache directory", () => {
    function expectMemoryOnly(dir: string): void {
      const { value: c, text } = captureStderr(() => {
        const cache = new KernelCache({ dir });
        const a = cache.getOrBuild(baseKey, () => payloadOf(100));
        expect(a.hit).to.equal("miss");
        expect(a.path).to.equal(undefined);
        expect(same(a.bytes, payloadOf(100))).to.equal(true);
        expect(cache.getOrBuild(baseKey, never).hit).to.equal("memory");
        cache.getOrBuild({ ...baseKey, source: "second kernel" }, () => payloadOf(10));
        const so = cache.fileFor(a, ".so");
        expect(same(fs.readFileSync(so), payloadOf(100))).to.equal(true);
        expect(path.relative(dir, so).startsWith("..")).to.equal(true);
        return cache;
      });
      expect(text.match(/kiln: kernel cache: cannot write/g), text).to.have.length(1);
      expect(text).to.match(/memory cache only/);
      expect(c.stats.builds).to.equal(2);
    }

    it("degrades to memory-only with one warning when the directory cannot be created", () => {
      const file = path.join(tmp, "not-a-dir");
      fs.writeFileSync(file, "x");
      expectMemoryOnly(path.join(file, "cache")); // ENOTDIR, even for root
    });

    it("degrades to memory-only with one warning in a read-only directory", function () {
      if (process.getuid?.() === 0) this.skip(); // root ignores directory permissions
      const ro = path.join(tmp, "ro");
      fs.mkdirSync(ro);
      fs.chmodSync(ro, 0o555);
      try {
        expectMemoryOnly(ro);
      } finally {
        fs.chmodSync(ro, 0o755);
      }
    });
  });

  describe("concurrency", () => {
    it("4 processes building the same key leave one valid entry; a reader never sees a partial one", async () => {
      const size = 8 << 20; // large enough that a non-atomic write would be caught mid-way
      const startAt = Date.now() + 1500;
      const env = { KILN_CACHE_DIR: tmp, KC_SIZE: String(size), KC_START_AT: String(startAt) };
      const reader = runChild({ ...env, KC_MODE: "read-loop", KC_UNTIL: String(startAt + 3000) });
      const writers = await Promise.all([0, 1, 2, 3].map(() => runChild({ ...env, KC_MODE: "build" })));
      for (const w of writers) expect(w).to.include({ ok: true, verifyHit: "disk", verifyOk: true });
      expect(writers.some((w) => w.built === 1)).to.equal(true);
      const r = await reader;
      expect(r.reads).to.be.greaterThan(0);
      expect(r).to.include({ bad: 0, corrupt: 0 });

      const files = listFiles(tmp);
      expect(files).to.have.length(1); // no stray temporary files either
      expect(files[0]).to.match(/^[0-9a-f]{2}\/[0-9a-f]{64}\.kiln$/);
      const c = new KernelCache({ dir: tmp });
      const hit = c.getOrBuild({ ...baseKey }, never);
      expect(hit.hit).to.equal("disk");
      expect(same(hit.bytes, payloadOf(size))).to.equal(true);
    });
  });

  describe("fileFor", () => {
    it("materializes a verified <key><suffix> file next to the entry", () => {
      const c = new KernelCache({ dir: tmp });
      const r = c.getOrBuild(baseKey, () => payloadOf(2000));
      const so = c.fileFor(r, ".so");
      expect(path.basename(so)).to.equal(`${r.key}.so`);
      expect(path.dirname(so)).to.equal(path.dirname(r.path as string));
      expect(sha(fs.readFileSync(so))).to.equal(sha(payloadOf(2000)));
      const mtime = fs.statSync(so).mtimeMs;
      expect(c.fileFor(r, ".so")).to.equal(so); // reused, not rewritten
      expect(fs.statSync(so).mtimeMs).to.equal(mtime);
    });

    it("getOrBuild with a suffix returns the materialized path, from a disk hit too", () => {
      const a = new KernelCache({ dir: tmp }).getOrBuild(baseKey, () => payloadOf(700), { suffix: ".so" });
      expect(a.path).to.match(/\.so$/);
      fs.rmSync(a.path as string);
      const b = new KernelCache({ dir: tmp }).getOrBuild(baseKey, never, { suffix: ".so" });
      expect(b.hit).to.equal("disk");
      expect(b.path).to.equal(a.path);
      expect(same(fs.readFileSync(b.path as string), payloadOf(700))).to.equal(true);
    });

    it("replaces a corrupt or truncated materialized file instead of returning it", () => {
      const c = new KernelCache({ dir: tmp });
      const r = c.getOrBuild(baseKey, () => payloadOf(2000));
      const so = c.fileFor(r, ".so");
      const damaged: Array<[string, (b: Buffer) => Buffer]> = [
        ["flipped", (b) => ((b[1000] ^= 1), b)],
        ["truncated", (b) => b.subarray(0, 1999)],
        ["empty", () => Buffer.alloc(0)],
      ];
      for (const [what, damage] of damaged) {
        fs.writeFileSync(so, damage(fs.readFileSync(so)));
        const fresh = new KernelCache({ dir: tmp });
        const again = fresh.fileFor(fresh.getOrBuild(baseKey, never), ".so");
        expect(again, what).to.equal(so);
        expect(sha(fs.readFileSync(so)), what).to.equal(sha(payloadOf(2000)));
        expect(fresh.stats.corrupt, what).to.equal(1);
      }
    });

    it("rejects suffixes that could escape the cache dir or clobber an entry", () => {
      const c = new KernelCache({ dir: tmp });
      const r = c.getOrBuild(baseKey, () => payloadOf(10));
      for (const bad of ["", "/../x", ".kiln", "a/b"]) expect(() => c.fileFor(r, bad), bad).to.throw(TypeError);
      const forged: CacheResult = { ...r, key: "../../etc/passwd" };
      expect(() => c.fileFor(forged, ".so")).to.throw(TypeError);
    });
  });
});
