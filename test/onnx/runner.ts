/**
 * The ONNX backend node-test conformance runner, shared by test/onnx/conformance.test.ts and
 * bench/onnx_conformance.ts: imports each model.onnx, binds it on cpu() (the tensor-expression
 * interpreter by default, generated C++ with backend "cpp"), feeds test_data_set_N/input_K.pb,
 * and compares with output_*.pb at ONNX's backend-test tolerances (rtol 1e-3, atol 1e-7).
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { importOnnx, OnnxImportResult } from "../../compiler/onnx/importer.js";
import { decodeModel, decodeTensor, OnnxModel } from "../../compiler/onnx/proto.js";
import { ConstTensor, tensorFromProto } from "../../compiler/onnx/tensor.js";
import { OnnxUnsupportedError } from "../../compiler/onnx/errors.js";
import { KNOWN_DIFFERENCES } from "../../compiler/onnx/known_differences.js";
import { constToNDArray } from "../../runtime/onnx_import.js";
import { cpu, reference, Context } from "../../runtime/context.js";
import type { Executor } from "../../compiler/symbol/binding.js";
import "../../runtime/executor/reference.js";
import "../../runtime/executor/compiled_binder.js";

export const RTOL = 1e-3;
export const ATOL = 1e-7;

export type Status = "passed" | "failed" | "unsupported";
export type Backend = "interpret" | "cpp" | "reference";

export interface CaseResult {
  name: string;
  /** ONNX op types of the model's nodes (domain-qualified outside the default domain). */
  ops: string[];
  status: Status;
  /** Why it failed or is unsupported. */
  reason?: string;
  /** The reason listed in KNOWN_DIFFERENCES, for a failure Kiln expects. */
  known?: string;
  /** For a failure on cpu(): whether the reference executor gets it right. */
  referenceStatus?: Status;
  /** Graph inputs folded in as constants. */
  folded?: string[];
  ms: number;
}

export function listCases(root: string): string[] {
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, "model.onnx")))
    .sort();
}

interface DataSet {
  inputs: ConstTensor[];
  inputNames: string[];
  outputs: { dims: number[]; values: Float64Array }[];
}

function readDataSets(dir: string): DataSet[] {
  const sets = readdirSync(dir)
    .filter((d) => d.startsWith("test_data_set_"))
    .sort();
  return sets.map((s) => {
    const files = readdirSync(join(dir, s));
    const read = (prefix: string) =>
      files
        .filter((f) => f.startsWith(prefix) && f.endsWith(".pb"))
        .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
        .map((f) => decodeTensor(readFileSync(join(dir, s, f))));
    const ins = read("input_");
    const outs = read("output_");
    return {
      inputs: ins.map((t, i) => tensorFromProto(t, `input_${i}.pb`)),
      inputNames: ins.map((t) => t.name),
      outputs: outs.map((t, i) => {
        const c = tensorFromProto(t, `output_${i}.pb`);
        return { dims: [...c.dims], values: c.values };
      }),
    };
  });
}

function opsOf(model: OnnxModel): string[] {
  return [...new Set(model.graph.nodes.map((n) => (n.domain ? `${n.domain}:${n.opType}` : n.opType)))];
}

/** Binds, feeds and runs one data set; returns undefined when every output matches, else why not. */
function runDataSet(imp: OnnxImportResult, model: OnnxModel, ds: DataSet, backend: Backend): string | undefined {
  const initNames = new Set(model.graph.initializers.map((t) => t.name));
  const realInputs = model.graph.inputs.filter((v) => !initNames.has(v.name)).map((v) => v.name);
  const byName = new Map<string, ConstTensor>();
  ds.inputs.forEach((t, i) => byName.set(ds.inputNames[i] && realInputs.includes(ds.inputNames[i]) ? ds.inputNames[i] : realInputs[i], t));
  const ctx: Context = backend === "reference" ? reference() : cpu();
  const shapes: Record<string, number[]> = {};
  for (const inp of imp.inputs) {
    const t = byName.get(inp.name);
    if (!t) return `no test data for input ${inp.name}`;
    shapes[inp.name] = t.dims.length ? [...t.dims] : [1];
  }
  const exe: Executor = imp.symbol.simpleBind({
    ctx,
    shapes,
    gradReq: "null",
    typeDict: Object.fromEntries(imp.inputs.map((i) => [i.name, i.dtype])),
    ...(backend === "interpret" ? { compile: { backend: "interpret" as const } } : {}),
  });
  const arg = exe.argDict;
  const aux = exe.auxDict;
  for (const [k, t] of [...Object.entries(imp.argParams), ...Object.entries(imp.auxParams)]) (arg[k] ?? aux[k])?.set(constToNDArray(t).toFloat64());
  for (const inp of imp.inputs) (inp.aux ? aux : arg)[inp.name].set(byName.get(inp.name)!.values);
  const outs = exe.forward(false);
  if (outs.length !== ds.outputs.length) return `${outs.length} outputs, expected ${ds.outputs.length}`;
  for (let k = 0; k < outs.length; k++) {
    const want = ds.outputs[k];
    const got = outs[k];
    const gotDims = imp.outputs[k]?.scalar ? [] : [...got.shape];
    const same = want.dims.length === gotDims.length && want.dims.every((d, i) => d === gotDims[i]);
    const scalarish = want.dims.length === 0 && got.size === 1;
    if (!same && !scalarish) return `output ${k}: shape [${gotDims.join(",")}], expected [${want.dims.join(",")}]`;
    const v = got.toFloat64();
    let worst = -1;
    let worstErr = 0;
    for (let i = 0; i < v.length; i++) {
      const e = want.values[i];
      const a = v[i];
      if (Number.isNaN(e) ? Number.isNaN(a) : a === e) continue;
      const err = Math.abs(a - e);
      if (!(err <= ATOL + RTOL * Math.abs(e)) && (worst < 0 || !(err <= worstErr))) {
        worst = i;
        worstErr = err;
      }
    }
    if (worst >= 0) return `output ${k}: value ${v[worst]} at flat index ${worst}, expected ${want.values[worst]} (|diff| ${worstErr.toPrecision(3)})`;
  }
  return undefined;
}

function attempt(imp: OnnxImportResult, model: OnnxModel, sets: DataSet[], backend: Backend): string | undefined {
  try {
    for (const ds of sets) {
      const why = runDataSet(imp, model, ds, backend);
      if (why) return why;
    }
    return undefined;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** Runs one test folder. */
export function runCase(root: string, name: string, backend: Backend = "interpret"): CaseResult {
  const t0 = performance.now();
  const dir = join(root, name);
  const done = (r: Omit<CaseResult, "name" | "ms" | "ops">, ops: string[]): CaseResult => {
    const res: CaseResult = { name, ops, ...r, ms: Math.round(performance.now() - t0) };
    if (res.status === "failed" && KNOWN_DIFFERENCES[name]) res.known = KNOWN_DIFFERENCES[name];
    return res;
  };
  let model: OnnxModel;
  try {
    model = decodeModel(readFileSync(join(dir, "model.onnx")));
  } catch (e) {
    return done({ status: "failed", reason: `decode: ${(e as Error).message}` }, []);
  }
  const ops = opsOf(model);
  const nonTensor = [...model.graph.inputs, ...model.graph.outputs].find((v) => v.kind !== "tensor" && v.kind !== "");
  if (nonTensor) return done({ status: "unsupported", reason: `${nonTensor.kind} values (graph input or output ${nonTensor.name})` }, ops);
  let sets: DataSet[];
  try {
    sets = readDataSets(dir);
  } catch (e) {
    if (e instanceof OnnxUnsupportedError) return done({ status: "unsupported", reason: `test data: ${e.items.map((i) => i.reason).join("; ")}` }, ops);
    throw e;
  }
  if (sets.length === 0) return done({ status: "unsupported", reason: "no test data set" }, ops);
  const first = sets[0];
  for (const t of first.outputs)
    if (t.dims.some((d) => d === 0)) return done({ status: "unsupported", reason: "zero-size output tensor" }, ops);
  const initNames = new Set(model.graph.initializers.map((t) => t.name));
  const realInputs = model.graph.inputs.filter((v) => !initNames.has(v.name)).map((v) => v.name);
  const inputShapes: Record<string, number[]> = {};
  const staticInputs: Record<string, ConstTensor> = {};
  first.inputs.forEach((t, i) => {
    const nm = first.inputNames[i] && realInputs.includes(first.inputNames[i]) ? first.inputNames[i] : realInputs[i];
    if (nm === undefined) return;
    inputShapes[nm] = [...t.dims];
    staticInputs[nm] = t;
  });
  let imp: OnnxImportResult;
  try {
    imp = importOnnx(model, { inputShapes, staticInputs });
  } catch (e) {
    if (e instanceof OnnxUnsupportedError) return done({ status: "unsupported", reason: summarize(e) }, ops);
    return done({ status: "failed", reason: `import: ${(e as Error).name}: ${(e as Error).message}` }, ops);
  }
  const folded = imp.foldedInputs.length ? imp.foldedInputs : undefined;
  const why = attempt(imp, model, sets, backend);
  if (!why) return done({ status: "passed", folded }, ops);
  const referenceStatus = backend === "reference" ? undefined : attempt(imp, model, sets, "reference") === undefined ? "passed" : "failed";
  return done({ status: "failed", reason: why, referenceStatus, folded }, ops);
}

function summarize(e: OnnxUnsupportedError): string {
  return e.items.map((i) => (i.reason ? `${i.opType}: ${i.reason}` : i.opType)).filter((s, i, a) => a.indexOf(s) === i).join("; ");
}
