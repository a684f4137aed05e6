/** Runs the built `kiln` command line as a separate process, as a user would. */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { REPO_ROOT } from "../helpers/paths.js";

/** cli/kiln.js beside this test's compiled tree (dist/test/cli → dist/cli, whatever the outDir). */
export const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "cli", "kiln.js");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `kiln ...args` from the repository root (where the templates are found). */
export function kiln(args: readonly string[], opts: { env?: Record<string, string | undefined>; timeout?: number } = {}): CliResult {
  const env: Record<string, string | undefined> = { ...process.env, KILN_DEBUG: undefined, ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: env as NodeJS.ProcessEnv, encoding: "utf8", timeout: opts.timeout ?? 60000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `kiln ...args` without blocking, so independent quick calls can run side by side. */
export function kilnAsync(args: readonly string[], opts: { env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, KILN_DEBUG: undefined, ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: env as NodeJS.ProcessEnv });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    p.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Fails with the process's output when it did not exit with `status`. */
export function expectStatus(r: CliResult, status: number): CliResult {
  if (r.status !== status) throw new Error(`kiln exited with ${r.status}, expected ${status}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`);
  return r;
}

/** A fresh temporary folder, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `kiln-cli-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
