/**
 * The on-disk format of one cache entry: a fixed 84-byte header, then the payload.
 *
 * | offset | size | field                                   |
 * |-------:|-----:|-----------------------------------------|
 * |      0 |    8 | magic `"KILNKRNL"`                      |
 * |      8 |    4 | format version (uint32 LE)              |
 * |     12 |   32 | key (the sha256 of the compile key, raw) |
 * |     44 |    8 | payload length in bytes (uint64 LE)     |
 * |     52 |   32 | sha256 of the payload (raw)             |
 * |     84 |    n | payload                                 |
 *
 * Every header byte is checked by exactly one comparison, so any flipped byte is caught; there
 * are deliberately no reserved bytes that a reader would have to ignore.
 */
import { createHash } from "node:crypto";

export const ENTRY_MAGIC = Buffer.from("KILNKRNL", "latin1");
export const ENTRY_FORMAT_VERSION = 1;
export const ENTRY_HEADER_BYTES = 84;

/** sha256 of `bytes`, raw (32 bytes). */
export function sha256(bytes: Uint8Array): Buffer {
  return createHash("sha256").update(bytes).digest();
}

/** The header for `payload` stored under `key` (64 hex characters). */
export function encodeEntryHeader(key: string, payload: Uint8Array, payloadSha: Buffer = sha256(payload)): Buffer {
  const h = Buffer.alloc(ENTRY_HEADER_BYTES);
  ENTRY_MAGIC.copy(h, 0);
  h.writeUInt32LE(ENTRY_FORMAT_VERSION, 8);
  Buffer.from(key, "hex").copy(h, 12);
  h.writeBigUInt64LE(BigInt(payload.byteLength), 44);
  payloadSha.copy(h, 52);
  return h;
}

/** A verified entry, or why it was rejected. */
export type DecodedEntry =
  | { ok: true; payload: Uint8Array; payloadSha: Buffer }
  | { ok: false; reason: string };

/**
 * Verifies a whole entry file read from disk against the key it was looked up under.
 * The payload returned is a plain `Uint8Array` view of `file` (not a `Buffer`), so callers get
 * the same type whether the bytes came from a build or from disk.
 */
export function decodeEntry(file: Uint8Array, key: string): DecodedEntry {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < ENTRY_HEADER_BYTES) return { ok: false, reason: `truncated header (${buf.length} bytes)` };
  if (!buf.subarray(0, 8).equals(ENTRY_MAGIC)) return { ok: false, reason: "bad magic" };
  const version = buf.readUInt32LE(8);
  if (version !== ENTRY_FORMAT_VERSION) return { ok: false, reason: `unsupported format version ${version}` };
  if (!buf.subarray(12, 44).equals(Buffer.from(key, "hex"))) return { ok: false, reason: "key mismatch" };
  const length = buf.readBigUInt64LE(44);
  const actual = BigInt(buf.length - ENTRY_HEADER_BYTES);
  if (length !== actual) return { ok: false, reason: `payload length ${length} in header, ${actual} in file` };
  const payload = new Uint8Array(buf.buffer, buf.byteOffset + ENTRY_HEADER_BYTES, buf.length - ENTRY_HEADER_BYTES);
  const payloadSha = sha256(payload);
  if (!payloadSha.equals(buf.subarray(52, 84))) return { ok: false, reason: "payload checksum mismatch" };
  return { ok: true, payload, payloadSha };
}
