/** Stacked cells (MXNet's `SequentialRNNCell`): each cell's output is the next cell's input. */
import { Symbol } from "../symbol/symbol.js";
import { GraphError } from "../base/errors.js";
import { BaseRNNCell, BeginStateOptions, RNNParams, Sequence, StateInfo } from "./base.js";

export class SequentialRNNCell extends BaseRNNCell {
  private readonly cells: BaseRNNCell[] = [];
  private readonly overrideCellParams: boolean;

  /** `params`: one container for every cell's variables; then cells must not bring their own. */
  constructor(opts: { params?: RNNParams } = {}) {
    super({ prefix: "", params: opts.params });
    this.overrideCellParams = opts.params !== undefined;
  }

  /** Appends a cell on top of the stack; returns this stack for chaining. */
  add(cell: BaseRNNCell): this {
    if (!(cell instanceof BaseRNNCell)) throw new GraphError("SequentialRNNCell.add needs an RNN cell");
    if (this.overrideCellParams) {
      if (!cell.ownParams) throw new GraphError("Either specify params for SequentialRNNCell or child cells, not both.");
      cell.params.update(this._params);
    }
    this._params.update(cell.params);
    this.cells.push(cell);
    return this;
  }

  /** The stacked cells, bottom first. */
  get children(): readonly BaseRNNCell[] {
    return this.cells;
  }

  override reset(): void {
    super.reset();
    for (const c of this.cells ?? []) c.reset();
  }

  get stateInfo(): StateInfo[] {
    return this.cells.flatMap((c) => c.stateInfo);
  }

  override beginState(opts: BeginStateOptions = {}): Symbol[] {
    return this.cells.flatMap((c) => c.beginState(opts));
  }

  call(inputs: Symbol, states: Symbol[]): [Symbol, Symbol[]] {
    this.checkStateCount(states);
    this.counter += 1;
    const next: Symbol[] = [];
    let p = 0;
    let x = inputs;
    for (const cell of this.cells) {
      const n = cell.stateInfo.length;
      const [out, s] = cell.call(x, states.slice(p, p + n));
      p += n;
      x = out;
      next.push(...s);
    }
    return [x, next];
  }

  protected override unrollSteps(length: number, inputs: Sequence, beginState: Symbol[] | undefined, layout: string, merge: boolean | undefined): [Sequence, Symbol[]] {
    this.reset();
    if (this.cells.length === 0) throw new GraphError("SequentialRNNCell has no cells to unroll");
    const begin = beginState ?? this.beginState();
    this.checkStateCount(begin);
    const next: Symbol[] = [];
    let p = 0;
    let x = inputs;
    this.cells.forEach((cell, i) => {
      const n = cell.stateInfo.length;
      const last = i === this.cells.length - 1;
      const [out, s] = cell.unroll(length, x, { beginState: begin.slice(p, p + n), layout, mergeOutputs: last ? merge : undefined });
      p += n;
      x = out;
      next.push(...s);
    });
    return [x, next];
  }

  private checkStateCount(states: Symbol[]): void {
    const want = this.stateInfo.length;
    if (!Array.isArray(states) || states.length !== want)
      throw new GraphError(`SequentialRNNCell needs ${want} state symbols (its cells' states in order), got ${Array.isArray(states) ? states.length : typeof states}`);
  }
}
