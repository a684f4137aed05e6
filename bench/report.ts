/**
 * Renders the latest result of every bench program on every device as Markdown: writes
 * bench/results/PERFORMANCE.md and replaces the README's Performance section (between the
 * `<!-- performance:begin -->` and `<!-- performance:end -->` markers).
 *
 *   npm run bench:report        (node dist/bench/report.js [--check])
 *
 * The tables are the ones each program printed (harness.printTable records them into the
 * JSON); older result files without them get a table of their `rows`.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./harness.js";

interface ResultFile {
  file: string;
  bench: string;
  date: string;
  device: string;
  deviceKey: string;
  json: Record<string, unknown>;
}

const BEGIN = "<!-- performance:begin -->";
const END = "<!-- performance:end -->";

function loadResults(dir: string): ResultFile[] {
  if (!existsSync(dir)) return [];
  const out: ResultFile[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith(".json")).sort()) {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof json.bench !== "string") continue;
    const dev = json.device;
    const device =
      typeof dev === "string" ? dev : dev && typeof dev === "object" ? String((dev as Record<string, unknown>).name ?? "unknown") : "unknown";
    const threads = dev && typeof dev === "object" ? (dev as Record<string, unknown>).threads : undefined;
    const deviceKey = f.slice(json.bench.length + 1).replace(/-\d{4}-\d{2}-\d{2}\.json$/, "");
    const quick = Boolean((json.flags as Record<string, unknown> | undefined)?.quick);
    if (quick) continue; // smoke runs are not results
    out.push({ file: f, bench: json.bench, date: String(json.date ?? ""), device: threads ? `${device}, ${threads} threads` : device, deviceKey, json });
  }
  return out;
}

/** The newest file per (bench, device). */
function latest(results: ResultFile[]): ResultFile[] {
  const best = new Map<string, ResultFile>();
  for (const r of results) {
    const k = `${r.bench}|${r.deviceKey}`;
    const cur = best.get(k);
    if (!cur || r.date > cur.date) best.set(k, r);
  }
  return [...best.values()].sort((a, b) => (a.bench === b.bench ? a.deviceKey.localeCompare(b.deviceKey) : a.bench.localeCompare(b.bench)));
}

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(3);
  if (typeof v === "object") return JSON.stringify(v).replace(/"/g, "").slice(0, 60);
  return String(v).replace(/\|/g, "\\|");
};

function markdownTable(headers: string[], rows: unknown[][]): string {
  const lines = [`| ${headers.join(" | ")} |`, `| ${headers.map(() => "---").join(" | ")} |`];
  for (const r of rows) lines.push(`| ${r.map(cell).join(" | ")} |`);
  return lines.join("\n");
}

function renderOne(r: ResultFile): string {
  const parts = [`### ${r.bench} — ${r.device} (${r.date.slice(0, 10)})`, "", `Source: \`bench/results/${r.file}\``, ""];
  const tables = r.json.tables as { title?: string; headers: string[]; rows: string[][] }[] | undefined;
  if (tables && tables.length > 0) {
    for (const t of tables) {
      if (t.title) parts.push(`**${t.title}**`, "");
      parts.push(markdownTable(t.headers, t.rows), "");
    }
  } else if (Array.isArray(r.json.rows) && r.json.rows.length > 0 && typeof r.json.rows[0] === "object") {
    const rows = r.json.rows as Record<string, unknown>[];
    const headers = Object.keys(rows[0]);
    parts.push(markdownTable(headers, rows.map((x) => headers.map((h) => x[h]))), "");
  }
  return parts.join("\n");
}

export function renderReport(dir = join(ROOT, "bench", "results")): string {
  const rs = latest(loadResults(dir));
  const head = [
    "Every number below comes from a bench program (`kiln bench <name>`), the latest full run per device;",
    "the JSON files hold the medians, spreads, sizes and floors. Regenerate with `npm run bench:report`.",
    "",
  ];
  return [...head, ...rs.map(renderOne)].join("\n");
}

export async function run(): Promise<void> {
  const md = renderReport();
  const dir = join(ROOT, "bench", "results");
  writeFileSync(join(dir, "PERFORMANCE.md"), `# Kiln performance results\n\n${md}\n`);
  const readme = join(ROOT, "README.md");
  const text = readFileSync(readme, "utf8");
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) {
    console.log(`README.md has no ${BEGIN} … ${END} section; wrote bench/results/PERFORMANCE.md only`);
    return;
  }
  writeFileSync(readme, `${text.slice(0, a + BEGIN.length)}\n${md}\n${text.slice(b)}`);
  console.log("wrote bench/results/PERFORMANCE.md and README.md's Performance section");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
