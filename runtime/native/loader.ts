/**
 * Finds and loads the `kiln_native` addon built by `npm install` (node-gyp, runtime/native).
 *
 * The .node file lives under the package root, which is found by walking up from this module
 * (works from dist/ and from any other tsc outDir inside the package) and then from the
 * working directory (an outDir outside the package, e.g. /tmp), to a package.json named "kiln".
 * `KILN_NATIVE_PATH` names the .node file directly.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { KilnError } from "../../compiler/base/errors.js";
import type { NativeAddon } from "./native_api.js";

export type { NativeAddon } from "./native_api.js";

/** The addon's binding version this TypeScript expects (src/addon.cc `abiVersion`). */
const ABI_VERSION = 1;

const BUILD_OUTPUTS = ["build/Release/kiln_native.node", "build/Debug/kiln_native.node"];

/** The directory of the nearest package.json named "kiln" at or above `start`, if any. */
export function findPackageRoot(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    const pj = path.join(dir, "package.json");
    try {
      if (JSON.parse(fs.readFileSync(pj, "utf8")).name === "kiln") return dir;
    } catch {
      /* no package.json here, or not JSON: keep walking */
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Every place the addon may be, in the order they are tried. */
export function addonCandidates(): string[] {
  const out: string[] = [];
  if (process.env.KILN_NATIVE_PATH) out.push(path.resolve(process.env.KILN_NATIVE_PATH));
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const start of [here, process.cwd()]) {
    const root = findPackageRoot(start);
    if (!root) continue;
    for (const rel of BUILD_OUTPUTS) {
      const p = path.join(root, "runtime", "native", rel);
      if (!out.includes(p)) out.push(p);
    }
  }
  return out;
}

let cached: { addon?: NativeAddon; error?: string; path?: string } | undefined;

/** The addon, or why it cannot be loaded; never throws. */
export function tryLoadNative(): { addon?: NativeAddon; error?: string; path?: string } {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const p of addonCandidates()) {
    if (!fs.existsSync(p)) {
      tried.push(`${p} (missing)`);
      continue;
    }
    try {
      const addon = require(p) as NativeAddon;
      if (addon.abiVersion !== ABI_VERSION) {
        tried.push(`${p} (binding version ${addon.abiVersion}, expected ${ABI_VERSION}: rebuild it)`);
        continue;
      }
      return (cached = { addon, path: p });
    } catch (err) {
      tried.push(`${p} (${(err as Error).message})`);
    }
  }
  const error =
    `the native addon kiln_native is not available; looked at: ${tried.join("; ") || "nowhere (no package root found)"}. ` +
    `Build it with \`npm install\` (or \`npm run install\`), which runs node-gyp in runtime/native.`;
  return (cached = { error });
}

/** The addon; throws a KilnError saying where it looked and how to build it. */
export function loadNative(): NativeAddon {
  const r = tryLoadNative();
  if (!r.addon) throw new KilnError(r.error ?? "kiln_native is not available");
  return r.addon;
}
