/**
 * Crash- and race-safe file writes: readers (in this or any other process) see either no file,
 * the old file, or the complete new one, never a partial write.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";

/**
 * Writes `chunks` to a uniquely named temporary file in the destination's own directory (rename
 * is only atomic within one file system), fsyncs it, then renames it over `dest`. Two writers of
 * the same destination both succeed; the last rename wins and both contents are complete.
 * On failure the temporary file is removed and the error is rethrown.
 */
export function writeFileAtomic(dest: string, chunks: readonly Uint8Array[]): void {
  const dir = path.dirname(dest);
  const tmp = path.join(dir, `.${path.basename(dest)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "wx", 0o644);
    for (const chunk of chunks) {
      let off = 0;
      while (off < chunk.byteLength) off += fs.writeSync(fd, chunk, off, chunk.byteLength - off);
    }
    // Without the fsync a crash after the rename can leave a named but empty or short file.
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, dest);
  } catch (err) {
    if (fd !== undefined) {
      try { fs.closeSync(fd); } catch { /* already failing; keep the first error */ }
    }
    try { fs.unlinkSync(tmp); } catch { /* it may never have been created */ }
    throw err;
  }
  syncDir(dir);
}

/** Best effort: make the rename itself durable. Not all platforms allow fsync on a directory. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    /* durability of the directory entry is an optimisation, not a correctness requirement */
  } finally {
    if (fd !== undefined) {
      try { fs.closeSync(fd); } catch { /* ignore */ }
    }
  }
}

/** Reads a file, or returns undefined when it does not exist (other errors are rethrown). */
export function readFileIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOTDIR: a path component is a file, so the file cannot exist either.
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
}

/** Removes a file, ignoring every error (it may be gone already, or the directory read-only). */
export function removeQuietly(file: string): void {
  try { fs.unlinkSync(file); } catch { /* nothing useful to do */ }
}
