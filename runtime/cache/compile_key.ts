/**
 * The identity of one compilation, and its stable hash.
 *
 * The hash names the cache entry on disk, so it must change whenever anything that can change
 * the compiled bytes changes, and two different keys must never encode to the same text.
 */
import { createHash } from "node:crypto";

/** Everything that determines the bytes a compiler produces for one kernel module. */
export interface CompileKey {
  /** Target and architecture, e.g. `"cuda:sm_90"` or `"cpu:x86_64"`. */
  target: string;
  /** The full source text handed to the compiler. */
  source: string;
  /** Compiler identity, e.g. `"nvrtc"`, `"g++"`, `"clang++"`. */
  compiler: string;
  /** Compiler version, e.g. `"12.4"` or the first line of `g++ --version`. */
  compilerVersion: string;
  /** Compiler options, in order (order matters to compilers, so it matters to the key). */
  options: readonly string[];
}

/** Bumped when the encoding below changes, so old and new hashes can never coincide. */
const KEY_ENCODING = "kiln-compile-key/1";

/**
 * The canonical text of a key. JSON of a fixed-shape array is injective: strings are quoted and
 * escaped (lone surrogates included), and `options` stays a nested array, so `["a b"]` and
 * `["a", "b"]` (or a field boundary moved between `target` and `source`) encode differently.
 */
export function canonicalKeyText(k: CompileKey): string {
  // Checked at run time too: JavaScript callers (or a stray `undefined`) would otherwise
  // silently hash to a key shared with some other, wrong, compilation.
  const fields = ["target", "source", "compiler", "compilerVersion"] as const;
  for (const f of fields) {
    if (typeof k[f] !== "string") throw new TypeError(`CompileKey.${f} must be a string, got ${typeof k[f]}`);
  }
  if (!Array.isArray(k.options) || k.options.some((o) => typeof o !== "string")) {
    throw new TypeError("CompileKey.options must be an array of strings");
  }
  return JSON.stringify([KEY_ENCODING, k.target, k.source, k.compiler, k.compilerVersion, [...k.options]]);
}

/** sha256 (lower-case hex, 64 characters) of the canonical encoding of every field of `k`. */
export function compileKeyHash(k: CompileKey): string {
  return createHash("sha256").update(canonicalKeyText(k), "utf8").digest("hex");
}

/** True for the strings {@link compileKeyHash} produces; guards paths built from a key. */
export function isKeyHash(key: string): boolean {
  return /^[0-9a-f]{64}$/.test(key);
}
