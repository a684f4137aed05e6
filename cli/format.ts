/** Small text helpers for the CLI. */

/**
 * A mistake in how the command was called (a malformed option value, a missing input): the
 * CLI prints it with a pointer to --help and exits with status 2, like yargs' own usage errors.
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Parses repeated `name=d1,d2,...` options into a shape record. */
export function parseShapeOptions(specs: readonly string[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const spec of specs) {
    const m = /^([^=]+)=\(?\s*(\d+(?:\s*,\s*\d+)*)\s*,?\s*\)?$/.exec(spec.trim());
    const dims = m ? m[2].split(",").map((d) => Number(d.trim())) : [];
    if (!m || dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d < 0))
      throw new UsageError(`--shape "${spec}" must look like name=1,3,224,224`);
    out[m[1].trim()] = dims;
  }
  return out;
}

/** Parses repeated `name=value` options (`--input data=file.idx`); a bare value goes to `defaultName`. */
export function parseNamedOptions(specs: readonly string[], what: string, defaultName?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const m = /^([A-Za-z_][\w.:-]*)=(.+)$/.exec(spec);
    if (m) out[m[1]] = m[2];
    else if (defaultName !== undefined && !(defaultName in out)) out[defaultName] = spec;
    else throw new UsageError(`${what} "${spec}" must look like name=value`);
  }
  return out;
}

/** A plain left-aligned text table (columns named in `right` are right-aligned). */
export function formatTable(header: string[], rows: string[][], right: readonly number[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const cell = (c: string | undefined, i: number): string => (right.includes(i) ? (c ?? "").padStart(widths[i]) : (c ?? "").padEnd(widths[i]));
  const line = (r: string[]): string => r.map(cell).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** `(1, 3, 224, 224)`; unknown dimensions (0) and unknown shapes print as `?`. */
export function formatShape(s: readonly number[] | undefined): string {
  if (!s || s.length === 0) return s && s.length === 0 ? "()" : "?";
  return `(${s.map((d) => (d === 0 ? "?" : String(d))).join(", ")})`;
}

/** `64×56×56`, compact for graph edges. */
export function compactShape(s: readonly number[] | undefined): string {
  if (!s) return "";
  return s.length === 0 ? "scalar" : s.map((d) => (d === 0 ? "?" : String(d))).join("×");
}

/** 11,689,512 */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** `4.79 MiB`, `812 B`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** Number of elements of a shape (1 for a scalar). */
export function shapeSize(s: readonly number[]): number {
  return s.reduce((a, d) => a * d, 1);
}
