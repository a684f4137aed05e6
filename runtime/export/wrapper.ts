/**
 * The typed TypeScript wrapper of an exported model (model.ts, with model.js and model.d.ts
 * emitted beside it), generated with ts-morph: the inputs and outputs as interfaces of typed
 * arrays, their names, shapes and dtypes as literal types, and load(dir) over
 * loadExportedModel (load.ts). ts-morph is imported on first use only: loading Kiln does not
 * pay for the TypeScript compiler.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { DType } from "../../compiler/base/dtype.js";
import type { ExportSchedule, TensorSpec } from "./schedule.js";

const ARRAY_NAMES: Record<DType, string> = {
  float32: "Float32Array",
  float64: "Float64Array",
  float16: "Uint16Array",
  int32: "Int32Array",
  int64: "BigInt64Array",
  uint8: "Uint8Array",
  int8: "Int8Array",
};

const propName = (n: string): string => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(n) ? n : JSON.stringify(n));

function record(ts: readonly TensorSpec[], value: (t: TensorSpec) => string): string {
  return `{ ${ts.map((t) => `${propName(t.name)}: ${value(t)}`).join(", ")} }`;
}

export interface WrapperOptions {
  /** Module specifier the wrapper imports loadExportedModel from (default "kiln"). */
  kilnModule: string;
  label: string;
}

/** Writes model.ts, model.js, model.d.ts (and a package.json marking the folder ESM) into `dir`. */
export async function writeWrapper(dir: string, s: ExportSchedule, opts: WrapperOptions): Promise<string[]> {
  const { Project, ModuleKind, ModuleResolutionKind, ScriptTarget, VariableDeclarationKind } = await import("ts-morph");
  const project = new Project({
    useInMemoryFileSystem: true,
    compilerOptions: {
      target: ScriptTarget.ES2022,
      module: ModuleKind.ES2022,
      moduleResolution: ModuleResolutionKind.Bundler,
      declaration: true,
      strict: true,
      skipLibCheck: true,
      noResolve: true,
    },
  });
  const f = project.createSourceFile("/model.ts", "", { overwrite: true });
  const shape = (t: TensorSpec): string => `${t.dtype} (${t.shape.join(",")})`;
  f.addStatements([
    `/**`,
    ` * Typed wrapper of ${opts.label.replace(/\*\//g, "* /")}, exported by Kiln for the ${s.target} target: runs the kernels of this`,
    ` * folder through Kiln's runtime (no graph, no recompilation). Generated; do not edit.`,
    ` */`,
  ]);
  f.addImportDeclaration({ moduleSpecifier: "node:url", namedImports: ["fileURLToPath"] });
  f.addImportDeclaration({ moduleSpecifier: opts.kilnModule, namedImports: ["loadExportedModel"] });
  f.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ["The target the kernels were exported for."],
    declarations: [{ name: "target", initializer: `${JSON.stringify(s.target)} as const` }],
  });
  const consts: [string, string, string][] = [
    ["inputNames", `[${s.inputs.map((t) => JSON.stringify(t.name)).join(", ")}] as const`, "Input names, in the C API's order."],
    ["outputNames", `[${s.outputs.map((t) => JSON.stringify(t.name)).join(", ")}] as const`, "Output names, in the C API's order."],
    ["inputShapes", `${record(s.inputs, (t) => `[${t.shape.join(", ")}]`)} as const`, "Shape of each input."],
    ["outputShapes", `${record(s.outputs, (t) => `[${t.shape.join(", ")}]`)} as const`, "Shape of each output."],
    ["inputDTypes", `${record(s.inputs, (t) => JSON.stringify(t.dtype))} as const`, "Element type of each input (float16 travels as its bits in a Uint16Array)."],
    ["outputDTypes", `${record(s.outputs, (t) => JSON.stringify(t.dtype))} as const`, "Element type of each output."],
  ];
  for (const [name, init, doc] of consts)
    f.addVariableStatement({ isExported: true, declarationKind: VariableDeclarationKind.Const, docs: [doc], declarations: [{ name, initializer: init }] });
  f.addTypeAlias({ isExported: true, name: "InputName", type: "(typeof inputNames)[number]" });
  f.addTypeAlias({ isExported: true, name: "OutputName", type: "(typeof outputNames)[number]" });
  f.addInterface({
    isExported: true,
    name: "Inputs",
    docs: ["The model's inputs: dense row-major arrays."],
    properties: s.inputs.map((t) => ({ name: propName(t.name), type: ARRAY_NAMES[t.dtype], docs: [shape(t)] })),
  });
  f.addInterface({
    isExported: true,
    name: "Outputs",
    docs: ["The model's outputs: fresh arrays on every run."],
    properties: s.outputs.map((t) => ({ name: propName(t.name), type: ARRAY_NAMES[t.dtype], docs: [shape(t)], isReadonly: false })),
  });
  f.addInterface({
    isExported: true,
    name: "Model",
    properties: [
      { name: "inputShapes", type: "typeof inputShapes", isReadonly: true },
      { name: "outputShapes", type: "typeof outputShapes", isReadonly: true },
    ],
    methods: [
      { name: "run", parameters: [{ name: "inputs", type: "Inputs" }], returnType: "Outputs", docs: ["Runs the model on the inputs."] },
      { name: "dispose", returnType: "void", docs: ["Releases the model's memory (and its GPU module on cuda)."] },
    ],
  });
  f.addFunction({
    isExported: true,
    name: "load",
    docs: ["Loads the exported model in `dir` (default: this file's folder); `options.device` picks the GPU for the cuda target."],
    parameters: [
      { name: "dir", type: "string", initializer: `fileURLToPath(new URL(".", import.meta.url))` },
      { name: "options", type: "{ device?: number }", initializer: "{}" },
    ],
    returnType: "Model",
    statements: [
      "const model = loadExportedModel(dir, options);",
      "return {",
      "  inputShapes,",
      "  outputShapes,",
      "  run: (inputs: Inputs): Outputs => model.run(inputs as unknown as Record<string, ArrayBufferView>) as unknown as Outputs,",
      "  dispose: (): void => model.dispose(),",
      "};",
    ],
  });
  f.formatText({ indentSize: 2 });
  const written = ["model.ts", "model.js", "model.d.ts", "package.json"];
  fs.writeFileSync(path.join(dir, "model.ts"), f.getFullText());
  const emitted = project.emitToMemory();
  for (const out of emitted.getFiles()) fs.writeFileSync(path.join(dir, path.basename(out.filePath)), out.text);
  // model.js is an ES module: the folder says so for Node.
  fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify({ type: "module", private: true, description: `Kiln export of ${opts.label}` }, null, 2)}\n`);
  return written;
}
