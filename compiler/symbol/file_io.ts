/**
 * The compiler's one door to the file system: Symbol.save and sym.load read and write MXNet
 * JSON text. Everything else in compiler/ is pure.
 */
import { readFileSync, writeFileSync, renameSync } from "node:fs";

export function readTextFile(path: string): string {
  return readFileSync(path, "utf8");
}

/** Writes through a temporary file and a rename, so a crash never leaves half a file. */
export function writeTextFile(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
