/**
 * ONNX conformance: runs the ONNX backend node tests (../shared/data/onnx-node-tests, ONNX
 * 1.23) through Kiln's importer and cpu() executor, prints a per-op table of passed / failed /
 * unsupported tests with totals, and writes bench/results/onnx_conformance-<date>.json and .md.
 *
 *   npm run conformance [-- --backend interpret|cpp|reference] [--filter REGEX] [--out DIR]
 *
 * backend "interpret" (default) runs the compiled pipeline with the tensor-expression
 * interpreter; "cpp" compiles generated C++ (slow on a cold kernel cache); "reference" is
 * the float64 oracle. A test counts under every op type its model uses; "blocking" counts the
 * unsupported tests that name the op among their reasons.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { cpus } from "node:os";
import { findPackageRoot } from "../runtime/native/loader.js";
import { listCases, runCase, CaseResult, Backend, RTOL, ATOL } from "../test/onnx/runner.js";
import { mappedOpTypes } from "../compiler/onnx/mappings/index.js";

const ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url))) ?? process.cwd();

interface OpRow {
  op: string;
  mapped: boolean;
  tests: number;
  passed: number;
  failed: number;
  unsupported: number;
  blocking: number;
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

export function opTable(results: CaseResult[]): OpRow[] {
  const mapped = new Set(mappedOpTypes());
  const rows = new Map<string, OpRow>();
  for (const r of results)
    for (const op of r.ops) {
      const row = rows.get(op) ?? { op, mapped: mapped.has(op), tests: 0, passed: 0, failed: 0, unsupported: 0, blocking: 0 };
      row.tests++;
      row[r.status]++;
      if (r.status === "unsupported" && r.reason && new RegExp(`(^|; )${op.replace(/[.]/g, "\\.")}(:|;|$)`).test(r.reason)) row.blocking++;
      rows.set(op, row);
    }
  return [...rows.values()].sort((a, b) => b.tests - a.tests || a.op.localeCompare(b.op));
}

export async function run(argv: string[] = process.argv.slice(2)): Promise<void> {
  const backend = (flag(argv, "--backend") ?? "interpret") as Backend;
  const filter = flag(argv, "--filter");
  const outDir = flag(argv, "--out") ?? join(ROOT, "bench", "results");
  const data = join(process.env.KILN_SHARED_DATA ?? join(ROOT, "..", "shared", "data"), "onnx-node-tests");
  const cases = listCases(data).filter((c) => !filter || new RegExp(filter).test(c));
  const t0 = performance.now();
  const results = cases.map((c) => runCase(data, c, backend));
  const seconds = (performance.now() - t0) / 1000;
  const totals = { tests: results.length, passed: 0, failed: 0, unsupported: 0, knownDifferences: 0 };
  for (const r of results) {
    totals[r.status]++;
    if (r.known) totals.knownDifferences++;
  }
  const rows = opTable(results);

  const header = ["op", "mapped", "tests", "passed", "failed", "unsupported", "blocking"];
  const lines = rows.map((r) => [r.op, r.mapped ? "yes" : "no", r.tests, r.passed, r.failed, r.unsupported, r.blocking].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  console.log(
    `\ntotal: ${totals.tests} tests, ${totals.passed} passed, ${totals.failed} failed (${totals.knownDifferences} known differences), ${totals.unsupported} unsupported — backend ${backend}, ${seconds.toFixed(1)} s`,
  );
  for (const r of results.filter((x) => x.status === "failed")) console.log(`  FAILED ${r.name}${r.known ? ` [known: ${r.known}]` : ""}: ${r.reason}`);

  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `onnx_conformance-${date}`);
  const machine = { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, node: process.version };
  // One line per op row and per test keeps the file reviewable in a diff.
  const tests = results.map(({ name, status, reason, known, folded, ops }) => ({ name, status, ...(reason ? { reason } : {}), ...(known ? { known } : {}), ...(folded ? { folded } : {}), ops }));
  const head = { name: "onnx_conformance", date, backend, tolerance: { rtol: RTOL, atol: ATOL }, suite: "onnx/onnx @6be0677 (1.23.0) backend node tests", machine, seconds: Number(seconds.toFixed(1)), totals };
  const lines1 = (xs: unknown[]): string => xs.map((x) => `  ${JSON.stringify(x)}`).join(",\n");
  writeFileSync(`${base}.json`, `${JSON.stringify(head, null, 1).slice(0, -2)},\n "ops": [\n${lines1(rows)}\n ],\n "tests": [\n${lines1(tests)}\n ]\n}\n`);
  const md = [
    `# ONNX backend node tests on Kiln (${date})`,
    "",
    `Backend \`${backend}\` on cpu(), tolerances rtol ${RTOL}, atol ${ATOL}; ${machine.cpu} (${machine.cores} cores), ${seconds.toFixed(1)} s.`,
    "",
    `**${totals.tests} tests: ${totals.passed} passed, ${totals.failed} failed (${totals.knownDifferences} known differences), ${totals.unsupported} unsupported.**`,
    "",
    "A test counts under every op its model uses; *blocking*: unsupported tests whose reasons name the op.",
    "",
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...lines.map((l) => `| ${l.join(" | ")} |`),
    "",
  ];
  const failed = results.filter((r) => r.status === "failed");
  if (failed.length) md.push("## Failures", "", ...failed.map((r) => `- \`${r.name}\`${r.known ? ` (known: ${r.known})` : ""}: ${r.reason}`), "");
  writeFileSync(`${base}.md`, md.join("\n"));
  console.log(`wrote ${base}.json and ${base}.md`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
