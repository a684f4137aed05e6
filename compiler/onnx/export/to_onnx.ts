/**
 * `toONNX`: an inference graph (a Symbol with its trained parameters) as an ONNX model's
 * bytes. Shapes are inferred from the given input shapes and written static; parameters
 * become float32 initializers (only those some node reads); variables named in `shapes`
 * become the graph inputs; a loss head's label is dropped (SoftmaxOutput is its softmax).
 * Each op is written by its emitter (ops/); every op or feature with none is listed in one
 * OnnxExportUnsupportedError.
 */
import type { Symbol } from "../../symbol/symbol.js";
import type { Node, NodeEntry } from "../../ir/node.js";
import type { Graph } from "../../ir/graph.js";
import { Shape, isShapeKnown } from "../../base/shape.js";
import { inferShapes } from "../../passes/infer_shape.js";
import { EmitCtx, Attrs, findEmitter, exportedOps } from "./emitter.js";
import { EmitUnsupported, ExportUnsupported, OnnxExportError, OnnxExportUnsupportedError } from "./errors.js";
import { encodeModel, floatTensor, int64Tensor, tensorValueInfo, ModelObject, NodeObject, TensorObject, ValueInfoObject } from "./writer.js";
import "./ops/index.js";

/** A parameter's values: an NDArray (anything with a shape and toFloat64) or a flat typed array. */
export type ParamValue = { readonly shape: readonly number[]; toFloat64(): ArrayLike<number> } | Float32Array | Float64Array;

export interface ToOnnxOptions {
  /** Shapes of the graph inputs (e.g. { data: [1, 3, 224, 224] }): these variables become ONNX inputs. */
  shapes: Record<string, readonly number[]>;
  /** Opset of the default domain (13 to 21; default 13). */
  opset?: number;
  /** The graph's name (default "kiln"). */
  graphName?: string;
  docString?: string;
}

/** ONNX IR version that goes with each opset (onnx/helper.py's VERSION_TABLE). */
const IR_VERSION: Record<number, number> = { 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

function valuesOf(p: ParamValue): { shape?: readonly number[]; values: ArrayLike<number> } {
  if (p instanceof Float32Array || p instanceof Float64Array) return { values: p };
  return { shape: p.shape, values: p.toFloat64() };
}

const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** The ONNX model of `symbol` with `argParams` and `auxParams` as initializers. */
export function toONNX(symbol: Symbol, argParams: Record<string, ParamValue>, auxParams: Record<string, ParamValue> = {}, opts: ToOnnxOptions): Uint8Array {
  const opset = opts.opset ?? 13;
  if (!IR_VERSION[opset]) throw new OnnxExportError(`ONNX export: opset ${opset} is not supported (13 to 21)`);
  const graph = symbol.graph();
  const params = new Map<string, ParamValue>([...Object.entries(argParams), ...Object.entries(auxParams)]);
  const varNames = new Set(graph.variableIds.map((id) => graph.nodes[id].name));
  for (const k of Object.keys(opts.shapes)) if (!varNames.has(k)) throw new OnnxExportError(`ONNX export: shapes names "${k}", which is not an input of the symbol`);

  // Shapes from the given input shapes (each parameter is then checked against the graph's);
  // the parameters' own shapes help only where those leave a variable open.
  const known = new Map<string, Shape>(Object.entries(opts.shapes).map(([k, v]) => [k, [...v]]));
  let table = inferShapes(graph, known);
  const open = graph.variableIds.filter((id) => !isShapeKnown(table[graph.rowPtr[id]]));
  if (open.length) {
    for (const id of open) {
      const s = params.has(graph.nodes[id].name) ? valuesOf(params.get(graph.nodes[id].name)!).shape : undefined;
      if (s) known.set(graph.nodes[id].name, [...s]);
    }
    table = inferShapes(graph, known);
  }
  const shapeOf = (e: NodeEntry): number[] => {
    const s = table[graph.entryId(e)];
    if (!s || s.some((d) => d <= 0)) throw new OnnxExportError(`ONNX export: cannot infer the shape of ${e.node.outputName(e.index)}: give the input shapes in opts.shapes`);
    return [...s];
  };

  const w = new Writer(graph, params, opts, shapeOf);
  const unsupported: ExportUnsupported[] = [];
  for (const node of graph.nodes) {
    if (node.isVariable) continue;
    const emit = findEmitter(node.op!.name);
    if (!emit) {
      unsupported.push({ op: node.op!.name, nodeName: node.name });
      continue;
    }
    const mark = w.nodes.length;
    try {
      emit(w.ctx(node, opset));
    } catch (e) {
      if (!(e instanceof EmitUnsupported)) throw e;
      w.nodes.length = mark;
      unsupported.push({ op: node.op!.name, nodeName: node.name, reason: e.reason });
    }
  }
  if (unsupported.length) throw new OnnxExportUnsupportedError(unsupported, exportedOps());

  const outputs: ValueInfoObject[] = symbol.outputs.map((e) => tensorValueInfo(w.valueName(e), shapeOf(e)));
  // Graph inputs in the symbol's argument order.
  const order = graph.variableIds.map((id) => graph.nodes[id].name);
  const inputs = [...w.inputs].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  const model: ModelObject = {
    ir_version: IR_VERSION[opset],
    opset_import: [{ domain: "", version: opset }],
    producer_name: "kiln",
    producer_version: "0.1.0",
    doc_string: opts.docString,
    graph: { name: opts.graphName ?? "kiln", node: w.nodes, initializer: w.initializers, input: inputs, output: outputs },
  };
  if (model.doc_string === undefined) delete model.doc_string;
  return encodeModel(model);
}

/** The model being written: ONNX nodes, initializers, graph inputs and value names. */
class Writer {
  readonly nodes: NodeObject[] = [];
  readonly initializers: TensorObject[] = [];
  readonly inputs: ValueInfoObject[] = [];
  private readonly names = new Set<string>();
  private readonly entryNames = new Map<Node, string[]>();
  private readonly written = new Set<string>();

  constructor(
    private readonly graph: Graph,
    private readonly params: Map<string, ParamValue>,
    private readonly opts: ToOnnxOptions,
    private readonly shapeOf: (e: NodeEntry) => number[],
  ) {
    for (const n of graph.nodes) if (n.isVariable) this.names.add(n.name);
  }

  private unique(base: string): string {
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  /** The ONNX value of an entry: a variable's own name, a node output's Kiln name (made unique). */
  valueName(e: NodeEntry): string {
    if (e.node.isVariable) return e.node.name;
    let list = this.entryNames.get(e.node);
    if (!list) this.entryNames.set(e.node, (list = []));
    return (list[e.index] ??= this.unique(e.node.outputName(e.index)));
  }

  /** Writes a variable the first time a node reads it: an initializer for a parameter, else a graph input. */
  private variable(e: NodeEntry): string {
    const name = e.node.name;
    if (this.written.has(name)) return name;
    const shape = this.shapeOf(e);
    const given = this.opts.shapes[name];
    const p = this.params.get(name);
    if (given === undefined) {
      if (!p) throw new OnnxExportError(`ONNX export: no value for parameter "${name}": give it in argParams/auxParams, or its shape in opts.shapes to make it a graph input`);
      const { shape: own, values } = valuesOf(p);
      if (own && !same(own, shape)) throw new OnnxExportError(`ONNX export: parameter "${name}" has shape (${own.join(",")}), the graph needs (${shape.join(",")})`);
      if (values.length !== shape.reduce((a, b) => a * b, 1)) throw new OnnxExportError(`ONNX export: parameter "${name}" has ${values.length} values for shape (${shape.join(",")})`);
      this.initializers.push(floatTensor(name, shape, values));
    } else this.inputs.push(tensorValueInfo(name, shape));
    this.written.add(name);
    return name;
  }

  ctx(node: Node, opset: number): EmitCtx {
    const w = this;
    return {
      node,
      name: node.name,
      params: node.params,
      opset,
      inShape: (i) => w.shapeOf(node.inputs[i]),
      outShape: (i = 0) => w.shapeOf(node.entry(i)),
      input(i) {
        const e = node.inputs[i];
        if (!e) throw new OnnxExportError(`ONNX export: ${node.name} has no input ${i}`);
        return e.node.isVariable ? w.variable(e) : w.valueName(e);
      },
      constValues(i) {
        const e = node.inputs[i];
        if (!e?.node.isVariable || w.opts.shapes[e.node.name] !== undefined) return undefined;
        const p = w.params.get(e.node.name);
        return p ? valuesOf(p).values : undefined;
      },
      output: (i = 0) => w.valueName(node.entry(i)),
      temp: (suffix) => w.unique(`${node.name}_${suffix}`),
      constant(suffix, dims, values, type = "float") {
        const name = w.unique(`${node.name}_${suffix}`);
        w.initializers.push(type === "int64" ? int64Tensor(name, dims, values) : floatTensor(name, dims, values));
        return name;
      },
      add(opType, inputs, outputs, attrs: Attrs = {}) {
        const attribute = Object.entries(attrs).flatMap(([name, a]) => (a ? [{ name, ...a }] : []));
        const base = w.nodeNames.has(node.name) ? `${node.name}_${opType}` : node.name;
        w.nodes.push({ name: w.uniqueNode(base), op_type: opType, input: inputs, output: outputs, attribute });
      },
      unsupported(reason): never {
        throw new EmitUnsupported(reason);
      },
    };
  }

  readonly nodeNames = new Set<string>();
  private uniqueNode(base: string): string {
    let name = base;
    for (let k = 1; this.nodeNames.has(name); k++) name = `${base}_${k}`;
    this.nodeNames.add(name);
    return name;
  }
}
