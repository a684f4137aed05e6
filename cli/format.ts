/** Small text helpers for the CLI. */
import { KilnError } from "../index.js";

/** Parses repeated `name=d1,d2,...` options into a shape record. */
export function parseShapeOptions(specs: readonly string[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const spec of specs) {
    const m = /^([^=]+)=([\d,\s]+)$/.exec(spec);
    if (!m) throw new KilnError(`--shape "${spec}" must look like name=1,3,224,224`);
    out[m[1]] = m[2].split(",").map((d) => Number(d.trim()));
  }
  return out;
}

/** A plain left-aligned text table. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]): string => r.map((c, i) => (c ?? "").padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
