/**
 * Where the sources of kernel compilations are kept for people to read: next to the kernel
 * cache (`<cache dir>/src/<key>.<ext>`), or under the temp dir when the disk cache is off.
 * Error messages of failed compiles name these files.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { KernelCache } from "./cache/kernel_cache.js";

export function sourceDir(cache: KernelCache): string {
  return cache.dir !== undefined ? path.join(cache.dir, "src") : path.join(os.tmpdir(), "kiln-src");
}

/** Saves `source` as `<key><ext>`; returns the path (or the path and why it is absent). */
export function saveSource(cache: KernelCache, key: string, ext: string, source: string): string {
  const dir = sourceDir(cache);
  const file = path.join(dir, key + ext);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, source);
  } catch (err) {
    return `${file} (could not be written: ${(err as Error).message})`;
  }
  return file;
}

/** KILN_DEBUG as a number (0 when unset); 4 and above print compile commands. */
export function debugLevel(): number {
  return Number(process.env.KILN_DEBUG ?? 0) || 0;
}
