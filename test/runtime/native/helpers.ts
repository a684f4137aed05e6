/** Shared by the native runtime tests: fixture paths, child processes, GPU skip reasons. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { findPackageRoot } from "../../../runtime/native/loader.js";
import { cuda } from "../../../runtime/cuda/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The package root, from the compiled test's location or the working directory. */
export function packageRoot(): string {
  const root = findPackageRoot(here) ?? findPackageRoot(process.cwd());
  if (!root) throw new Error("tests must run inside the kiln package (no package.json named kiln found)");
  return root;
}

export function fixturePath(...rel: string[]): string {
  return path.join(packageRoot(), "test", "fixtures", ...rel);
}

export function readFixture(...rel: string[]): string {
  return fs.readFileSync(fixturePath(...rel), "utf8");
}

/** A URL of a compiled module of this build (any outDir), for child processes to import. */
export function moduleUrl(relFromRoot: string): string {
  return new URL(`../../../${relFromRoot}`, import.meta.url).href;
}

/** A fresh temporary directory, removed at exit. */
export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on("exit", () => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Runs an ES module snippet in a new Node process; returns its parsed last stdout line. */
export function runChild(code: string, env: NodeJS.ProcessEnv = {}): unknown {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 60000,
  });
  if (r.status !== 0) throw new Error(`child process failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** Why the CUDA runtime tests cannot run here, or undefined when a GPU is usable. */
export function gpuSkipReason(): string | undefined {
  const s = cuda.status();
  return s.available ? undefined : `no usable GPU: ${s.reason}`;
}

/**
 * Skips every test of the suite running `ctx`'s hook, with `reason` in each test's title (mocha
 * has no skip message) and once in full on stdout.
 */
export function skipSuite(ctx: Mocha.Context, reason: string): never {
  const short = reason.split(/\. Looked at|; looked at|; set KILN_/)[0];
  const suite = ctx.test?.parent;
  suite?.tests.forEach((t) => (t.title += ` (skipped: ${short})`));
  console.log(`      ${suite?.title ?? "suite"} skipped: ${reason}`);
  ctx.skip();
}
