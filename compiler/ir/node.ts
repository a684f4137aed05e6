/**
 * Graph nodes. A node is immutable once built: composing symbols builds new nodes, passes
 * build new graphs. A variable is a node whose op is null.
 */
import { OpDef, inputNamesOf } from "../ops/registry.js";
import { parseParams } from "../ops/params.js";
import { GraphError } from "../base/errors.js";

export interface NodeEntry {
  readonly node: Node;
  readonly index: number;
  /** NNVM's variable version as read from a JSON file (kept so files write back unchanged). */
  readonly version?: number;
}

export class Node {
  private _attrs: Readonly<Record<string, string>>;
  private _params: Readonly<Record<string, unknown>>;

  constructor(
    readonly op: OpDef | null,
    readonly name: string,
    attrs: Readonly<Record<string, string>>,
    readonly inputs: readonly NodeEntry[],
    readonly controlDeps: readonly Node[] = [],
  ) {
    this._attrs = { ...attrs };
    this._params = op ? parseParams(op.params, attrs, `operator ${name} (${op.name})`) : {};
    if (op) {
      const names = inputNamesOf(op, this.params);
      if (inputs.length !== names.length)
        throw new GraphError(`operator ${name} (${op.name}) takes ${names.length} inputs (${names.join(", ")}), got ${inputs.length}`);
    }
  }

  /** Every attribute as MXNet stores it: op params and hidden `__x__` attributes, all strings. */
  get attrs(): Readonly<Record<string, string>> {
    return this._attrs;
  }

  /** Parameters parsed from `attrs` by the op's schema (empty for variables). */
  get params(): Readonly<Record<string, unknown>> {
    return this._params;
  }

  /**
   * Changes attributes in place (MXNet's `_set_attr`). The only mutation a node allows, for the
   * user API; params are re-parsed first so a bad value leaves the node as it was.
   */
  setAttrs(update: Readonly<Record<string, string>>): void {
    const attrs = { ...this._attrs, ...update };
    if (this.op) {
      const params = parseParams(this.op.params, attrs, `operator ${this.name} (${this.op.name})`);
      if (inputNamesOf(this.op, params).length !== this.inputs.length)
        throw new GraphError(`operator ${this.name} (${this.op.name}): changing ${Object.keys(update).join(", ")} would change its inputs`);
      this._params = params;
    }
    this._attrs = attrs;
  }

  get isVariable(): boolean {
    return this.op === null;
  }

  /** Outputs including hidden ones (BatchNorm's mean and var, Dropout's mask). */
  get numOutputs(): number {
    return this.op ? this.op.outputNames(this.params).length : 1;
  }

  get numVisibleOutputs(): number {
    return this.op ? this.op.numVisibleOutputs(this.params) : 1;
  }

  get inputNames(): string[] {
    return this.op ? inputNamesOf(this.op, this.params) : [];
  }

  /** Indices of inputs this node mutates (auxiliary states). */
  get mutableInputs(): number[] {
    return this.op?.mutableInputs?.(this.params) ?? [];
  }

  entry(index = 0): NodeEntry {
    return { node: this, index };
  }

  /** MXNet's output name: `<node>_<op's name for it>` (`fc1_output`, `bn_mean`, `slice0_output1`). */
  outputName(index: number): string {
    if (!this.op) return this.name;
    return `${this.name}_${this.op.outputNames(this.params)[index]}`;
  }
}

export function isVariableEntry(e: NodeEntry): boolean {
  return e.node.op === null;
}
