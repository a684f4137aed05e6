/**
 * The Symbol: a list of output entries of the graph, with MXNet's Symbol API. Symbols are
 * values; composing them builds new nodes and never changes old ones (except `setAttr`,
 * which MXNet also does in place).
 */
import { Node, NodeEntry } from "../ir/node.js";
import { Graph } from "../ir/graph.js";
import { DType } from "../base/dtype.js";
import { GraphError } from "../base/errors.js";
import { symbolToJSON } from "./json_write.js";
import { inferSymbolShapes, inferSymbolTypes, ShapeTriple, TypeTriple, PartialTypeTriple } from "./infer.js";
import { buildGradient } from "../passes/gradient.js";
import { createOp } from "./compose.js";
import { writeTextFile } from "./file_io.js";
import { getBinder, BindArgs, SimpleBindArgs, ExecutorLike } from "./binding.js";

export class Symbol {
  constructor(readonly outputs: readonly NodeEntry[]) {}

  /** The node's name for a single-output symbol; undefined for a group (as MXNet's None). */
  get name(): string | undefined {
    return this.outputs.length === 1 ? this.outputs[0].node.name : undefined;
  }

  /** The graph this symbol heads (built on demand; symbols are immutable). */
  graph(): Graph {
    return new Graph(this.outputs);
  }

  listInputs(): string[] {
    return this.graph().variableIds.map((id) => this.graph().nodes[id].name);
  }

  listArguments(): string[] {
    const g = this.graph();
    const aux = g.mutableVariableIds;
    return g.variableIds.filter((id) => !aux.has(id)).map((id) => g.nodes[id].name);
  }

  listAuxiliaryStates(): string[] {
    const g = this.graph();
    const aux = g.mutableVariableIds;
    return g.variableIds.filter((id) => aux.has(id)).map((id) => g.nodes[id].name);
  }

  listOutputs(): string[] {
    return this.outputs.map((e) => e.node.outputName(e.index));
  }

  /** Every variable and every visible output of every node, in DFS order. */
  getInternals(): Symbol {
    const entries: NodeEntry[] = [];
    for (const n of this.graph().nodes) for (let i = 0; i < n.numVisibleOutputs; i++) entries.push(n.entry(i));
    return new Symbol(entries);
  }

  /** One output, by position or by its listOutputs() name. */
  get(key: number | string): Symbol {
    if (typeof key === "number") {
      if (!Number.isInteger(key) || key < 0 || key >= this.outputs.length)
        throw new GraphError(`output index ${key} out of range: this symbol has ${this.outputs.length} outputs`);
      return new Symbol([this.outputs[key]]);
    }
    const names = this.listOutputs();
    const i = names.indexOf(key);
    if (i < 0) throw new GraphError(`no output named "${key}"; outputs are ${names.join(", ")}`);
    if (names.indexOf(key, i + 1) >= 0) throw new GraphError(`more than one output is named "${key}"`);
    return new Symbol([this.outputs[i]]);
  }

  /** The inputs of this symbol's head node(s) grouped, or undefined when there are none. */
  getChildren(): Symbol | undefined {
    const entries = this.outputs.flatMap((e) => e.node.inputs);
    return entries.length ? new Symbol(entries) : undefined;
  }

  private headNode(what: string): Node {
    if (this.outputs.length !== 1) throw new GraphError(`${what} needs a single-output symbol, this one has ${this.outputs.length} outputs`);
    return this.outputs[0].node;
  }

  attr(key: string): string | undefined {
    return this.headNode("attr").attrs[key];
  }

  listAttr(): Record<string, string> {
    return { ...this.headNode("listAttr").attrs };
  }

  /** `{ nodeName: attrs }` for every node of the graph that has attributes. */
  attrDict(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const n of this.graph().nodes) if (Object.keys(n.attrs).length > 0) out[n.name] = { ...n.attrs };
    return out;
  }

  /** Sets attributes on the head node in place, as MXNet's `_set_attr`. */
  setAttr(attrs: Record<string, string | number | boolean>): void {
    const strings: Record<string, string> = {};
    for (const [k, v] of Object.entries(attrs)) strings[k] = typeof v === "boolean" ? (v ? "True" : "False") : String(v);
    this.headNode("setAttr").setAttrs(strings);
  }

  plus(other: Symbol | number): Symbol {
    return arith(this, other, "elemwise_add", "_plus", "_plus_scalar", "_plusscalar");
  }

  minus(other: Symbol | number): Symbol {
    return arith(this, other, "elemwise_sub", "_minus", "_minus_scalar", "_minusscalar");
  }

  mul(other: Symbol | number): Symbol {
    return arith(this, other, "elemwise_mul", "_mul", "_mul_scalar", "_mulscalar");
  }

  div(other: Symbol | number): Symbol {
    return arith(this, other, "elemwise_div", "_div", "_div_scalar", "_divscalar");
  }

  pow(other: Symbol | number): Symbol {
    return arith(this, other, "_power", "_power", "_power_scalar", "_powerscalar");
  }

  /** `number - this` (MXNet's `__rsub__`). */
  rminus(scalar: number): Symbol {
    return createOp("_rminus_scalar", { data: this, scalar }, "_rminusscalar");
  }

  /** `number / this` (MXNet's `__rtruediv__`). */
  rdiv(scalar: number): Symbol {
    return createOp("_rdiv_scalar", { data: this, scalar }, "_rdivscalar");
  }

  /** `-this`, which MXNet builds as `this * -1.0`. */
  neg(): Symbol {
    return this.mul(-1);
  }

  toJSON(): string {
    return symbolToJSON(this);
  }

  save(path: string): void {
    writeTextFile(path, this.toJSON());
  }

  /** `[argShapes, outShapes, auxShapes]`; throws naming every argument that stays unknown. */
  inferShape(shapes: Record<string, readonly number[]> = {}): ShapeTriple {
    return inferSymbolShapes(this, shapes, false);
  }

  /** As inferShape, with 0 for unknown dims and [] for unknown shapes instead of an error. */
  inferShapePartial(shapes: Record<string, readonly number[]> = {}): ShapeTriple {
    return inferSymbolShapes(this, shapes, true);
  }

  inferType(types: Record<string, DType> = {}): TypeTriple {
    return inferSymbolTypes(this, types, false) as TypeTriple;
  }

  inferTypePartial(types: Record<string, DType> = {}): PartialTypeTriple {
    return inferSymbolTypes(this, types, true);
  }

  /**
   * The symbolic gradient (MXNet's `grad`): one output per name in `wrt`. Outputs that are
   * not loss ops take their head gradient from a new variable `<output>_head_grad`.
   */
  gradient(wrt: string[]): Symbol {
    const g = this.graph();
    const byName = new Map(g.variableIds.map((id) => [g.nodes[id].name, g.nodes[id]]));
    const wrtEntries = wrt.map((n) => {
      const node = byName.get(n);
      if (!node) throw new GraphError(`gradient: "${n}" is not an input of this symbol (inputs: ${[...byName.keys()].join(", ")})`);
      return node.entry(0);
    });
    const heads = this.outputs.map((e, i) =>
      e.node.op?.isLoss ? null : new Node(null, `${this.listOutputs()[i]}_head_grad`, {}, []).entry(0),
    );
    return new Symbol(buildGradient({ outputs: this.outputs, headGrads: heads, wrt: wrtEntries }));
  }

  /** Allocates every array and binds (MXNet's simple_bind). */
  simpleBind(args: SimpleBindArgs): ExecutorLike {
    return getBinder(args.ctx).simpleBind(this, args);
  }

  /** Binds to arrays the caller owns (MXNet's bind). */
  bind(args: BindArgs): ExecutorLike {
    return getBinder(args.ctx).bind(this, args);
  }
}

function arith(a: Symbol, b: Symbol | number, op: string, hint: string, scalarOp: string, scalarHint: string): Symbol {
  if (typeof b === "number") return createOp(scalarOp, { data: a, scalar: b }, scalarHint);
  return createOp(op, { lhs: a, rhs: b }, hint);
}
