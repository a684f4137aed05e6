/**
 * The Handlebars skeletons of generated code (templates/*.hbs at the package root): module
 * header, kernel signature and loop structure per kernel family and target. Each is compiled
 * once per process (`noEscape`: the output is C, not HTML; `strict`: a missing field is an
 * error, not an empty string), in one Handlebars environment per target so that the
 * `signature` partial is the target's own.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { KilnError } from "../base/errors.js";
import type { TargetSpec } from "./targets.js";

export type Family = "module" | "map" | "reduce" | "scatter" | "gemm";

/** The package root (nearest package.json named "kiln") at or above `start`. */
function packageRoot(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    try {
      if ((JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string }).name === "kiln") return dir;
    } catch {
      /* no package.json here */
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

let dirMemo: string | undefined;

/**
 * templates/ of the package: found from this module (dist/ or any outDir inside the package),
 * then from the working directory (an outDir elsewhere); KILN_TEMPLATES names it directly.
 */
export function templatesDir(): string {
  if (dirMemo) return dirMemo;
  const tried: string[] = [];
  const candidates = process.env.KILN_TEMPLATES ? [process.env.KILN_TEMPLATES] : [];
  for (const start of [path.dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    const root = packageRoot(start);
    if (root) candidates.push(path.join(root, "templates"));
  }
  for (const c of candidates) {
    if (fs.existsSync(path.join(c, "helpers.hbs"))) return (dirMemo = c);
    tried.push(c);
  }
  throw new KilnError(`codegen: the kernel templates (templates/*.hbs) were not found; looked at: ${tried.join(", ") || "no package root"}. Set KILN_TEMPLATES to the folder.`);
}

const envs = new Map<string, { hb: typeof Handlebars; compiled: Map<Family, Handlebars.TemplateDelegate> }>();

function read(file: string): string {
  const p = path.join(templatesDir(), file);
  try {
    return fs.readFileSync(p, "utf8");
  } catch (err) {
    throw new KilnError(`codegen: cannot read template ${p}: ${(err as Error).message}`);
  }
}

/** The compiled template of `family` for the target (compiled at first use, then reused). */
export function template(spec: TargetSpec, family: Family): Handlebars.TemplateDelegate {
  let env = envs.get(spec.ext);
  if (!env) {
    const hb = Handlebars.create();
    const opts = { noEscape: true, strict: true };
    hb.registerPartial("helpers", hb.compile(read("helpers.hbs"), opts));
    hb.registerPartial("signature", hb.compile(read(`signature.${spec.ext}.hbs`), opts));
    env = { hb, compiled: new Map() };
    envs.set(spec.ext, env);
  }
  let t = env.compiled.get(family);
  if (!t) {
    t = env.hb.compile(read(`${family}.${spec.ext}.hbs`), { noEscape: true, strict: true });
    env.compiled.set(family, t);
  }
  return t;
}
