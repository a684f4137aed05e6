/**
 * The skeletons of an exported model's C API, build files, example and README
 * (templates/export/*.hbs), compiled once per process like the kernel templates
 * (`noEscape`: the output is C, not HTML; `strict`: a missing field is an error).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Handlebars from "handlebars";
import { KilnError } from "../../compiler/base/errors.js";
import { templatesDir } from "../../compiler/codegen/templates.js";

export type ExportTemplate = "kiln_model.h" | "kiln_model.c" | "kernel_table.cpp" | "example.c" | "Makefile" | "CMakeLists.txt" | "README.md";

/** Parts of kiln_model.c: its file readers and each target's half. */
const PARTIALS = ["kiln_model_files.c", "kiln_model_cpu.c", "kiln_model_cuda.c"] as const;

const compiled = new Map<ExportTemplate, Handlebars.TemplateDelegate>();
let hb: typeof Handlebars | undefined;

function read(name: string): string {
  const file = path.join(templatesDir(), "export", `${name}.hbs`);
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new KilnError(`export: cannot read template ${file}: ${(err as Error).message}`);
  }
}

function env(): typeof Handlebars {
  if (hb) return hb;
  const h = Handlebars.create();
  for (const p of PARTIALS) h.registerPartial(p.replace(/\.c$/, ""), h.compile(read(p), { noEscape: true, strict: true }));
  return (hb = h);
}

/** Renders templates/export/<name>.hbs with `context`. */
export function renderExportTemplate(name: ExportTemplate, context: object): string {
  let t = compiled.get(name);
  if (!t) {
    t = env().compile(read(name), { noEscape: true, strict: true });
    compiled.set(name, t);
  }
  try {
    return t(context);
  } catch (err) {
    throw new KilnError(`export: template ${name}.hbs: ${(err as Error).message}`);
  }
}
