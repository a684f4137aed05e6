/**
 * The base of MXNet's symbolic RNN cells (`mx.rnn`, python/mxnet/rnn/rnn_cell.py in 1.9.1):
 * a parameter container for weight sharing, the step/unroll protocol, begin states, and the
 * sequence normalization that splits or merges inputs and outputs along the time axis.
 */
import { Symbol } from "../symbol/symbol.js";
import { sym, Variable, VariableOptions } from "../symbol/sym.js";
import { GraphError } from "../base/errors.js";
import type { DType } from "../base/dtype.js";

/**
 * Holds the variables of one or more cells (MXNet's `RNNParams`). `get` creates
 * `<prefix><name>` on first use and returns the same symbol afterwards, so two cells built on
 * one container share their weights.
 */
export class RNNParams {
  private readonly vars = new Map<string, Symbol>();

  constructor(readonly prefix = "") {}

  /** The variable `<prefix><name>`, created with `opts` if it does not exist yet. */
  get(name: string, opts: VariableOptions = {}): Symbol {
    const full = this.prefix + name;
    let v = this.vars.get(full);
    if (!v) {
      v = Variable(full, opts);
      this.vars.set(full, v);
    }
    return v;
  }

  /** Full names of every variable held, in creation order. */
  names(): string[] {
    return [...this.vars.keys()];
  }

  /** Every variable held, by full name. */
  toRecord(): Record<string, Symbol> {
    return Object.fromEntries(this.vars);
  }

  /** Adds `other`'s variables (same names are replaced), as MXNet's `_params.update`. */
  update(other: RNNParams): void {
    for (const [k, v] of other.vars) this.vars.set(k, v);
  }
}

/** Shape and layout of one state: the batch dim is 0 (inferred), e.g. `(0, num_hidden)` in "NC". */
export interface StateInfo {
  shape: number[];
  layout: string;
}

/** What a begin-state function gets: the state's name, shape (batch dim 0), layout attribute and dtype. */
export interface BeginStateArgs {
  name: string;
  shape: number[];
  attr: Record<string, string>;
  dtype: DType;
}

/** Makes one begin state; the default is `sym.zeros` with the state's shape. */
export type BeginStateFunc = (args: BeginStateArgs) => Symbol;

export interface BeginStateOptions {
  /** Builds each state, e.g. `({ name }) => sym.Variable(name)` to feed states as inputs. Default: zeros. */
  func?: BeginStateFunc;
  /** Type of the zeros (MXNet's `begin_state(dtype=...)`). Default float32. */
  dtype?: DType;
}

export interface UnrollOptions {
  /** Initial states (from `beginState()` or another cell's final states); zeros when absent. */
  beginState?: Symbol[];
  /** Layout of a single-symbol input: "NTC" (batch, time, channel) or "TNC". Default "NTC". */
  layout?: string;
  /**
   * true: one symbol with the outputs stacked on the time axis of `layout`. false or absent
   * (MXNet's None, which keeps the stepped outputs as they are): one symbol per step.
   */
  mergeOutputs?: boolean;
}

/** A single-output symbol per step, or one symbol holding every step. */
export type Sequence = Symbol | Symbol[];

export interface CellOptions {
  /** Prefix of node and parameter names. */
  prefix?: string;
  /** A container to share weights with another cell; a new one named by `prefix` when absent. */
  params?: RNNParams;
}

/** The outputs of a multi-output symbol as a list (Python's `list(symbol)`). */
export function outputsOf(s: Symbol): Symbol[] {
  return s.outputs.map((_, i) => s.get(i));
}

function timeAxis(layout: string): number {
  const axis = layout.indexOf("T");
  if (axis < 0) throw new GraphError(`RNN layout "${layout}" has no time axis "T" (use "NTC" or "TNC")`);
  return axis;
}

/**
 * MXNet's `_normalize_sequence`: with `merge` false a single symbol is split into `length`
 * steps along the time axis; with `merge` true a list is stacked into one symbol; undefined
 * keeps the given form.
 */
export function normalizeSequence(length: number, inputs: Sequence, layout: string, merge: boolean | undefined): Sequence {
  const axis = timeAxis(layout);
  if (inputs instanceof Symbol) {
    if (merge !== false) return inputs;
    if (inputs.outputs.length !== 1)
      throw new GraphError("unroll doesn't allow a grouped symbol as input: pass a list of symbols, or one symbol for unroll to split");
    return outputsOf(sym.split({ data: inputs, axis, num_outputs: length, squeeze_axis: true }));
  }
  if (!Array.isArray(inputs)) throw new GraphError("RNN inputs must be a Symbol or an array of Symbols");
  if (inputs.length !== length) throw new GraphError(`unroll(${length}) got ${inputs.length} input symbols`);
  if (merge !== true) return inputs;
  return sym.Concat({ data: inputs.map((s) => sym.expand_dims({ data: s, axis })), dim: axis });
}

/** The common part of every cell: naming counters, parameters, begin states and unrolling. */
export abstract class BaseRNNCell {
  readonly prefix: string;
  protected readonly _params: RNNParams;
  /** Whether this cell created its parameter container (false when one was given). */
  readonly ownParams: boolean;
  /** Steps built since the last reset: names the nodes of step t `<prefix>t<t>_...`. */
  protected counter = -1;
  /** Begin states made since the last reset: names them `<prefix>begin_state_<i>`. */
  protected initCounter = -1;

  constructor(opts: CellOptions = {}) {
    this.prefix = opts.prefix ?? "";
    this.ownParams = opts.params === undefined;
    this._params = opts.params ?? new RNNParams(this.prefix);
  }

  /** The parameter container (pass it to another cell to share weights). */
  get params(): RNNParams {
    return this._params;
  }

  /** Shape and layout of each state this cell carries from step to step. */
  abstract get stateInfo(): StateInfo[];

  get stateShape(): number[][] {
    return this.stateInfo.map((s) => [...s.shape]);
  }

  /** Suffixes of the gates packed in i2h/h2h weights (`_i`, `_f`, `_c`, `_o` for LSTM). */
  get gateNames(): string[] {
    return [];
  }

  /** Restarts step and begin-state numbering, before building another graph with this cell. */
  reset(): void {
    this.counter = -1;
    this.initCounter = -1;
  }

  /** One time step: `inputs` is (batch, features); returns the output and the next states. */
  abstract call(inputs: Symbol, states: Symbol[]): [Symbol, Symbol[]];

  /**
   * Initial states, named `<prefix>begin_state_<i>`: zeros of shape (0, num_hidden) by
   * default, whose batch dim is inferred from the rest of the graph.
   */
  beginState(opts: BeginStateOptions = {}): Symbol[] {
    const func = opts.func ?? zerosState;
    return this.stateInfo.map((info) => {
      this.initCounter += 1;
      const name = `${this.prefix}begin_state_${this.initCounter}`;
      return func({ name, shape: [...info.shape], attr: { __layout__: info.layout }, dtype: opts.dtype ?? "float32" });
    });
  }

  /**
   * Unrolls the cell over `length` steps. `inputs` is one symbol of shape (batch, length, ...)
   * for "NTC" or (length, batch, ...) for "TNC", or a list of `length` symbols (batch, ...).
   * Returns the outputs (one symbol when `mergeOutputs` is true, else one per step) and the
   * final states.
   */
  unroll(length: number, inputs: Sequence, opts: UnrollOptions & { mergeOutputs: true }): [Symbol, Symbol[]];
  unroll(length: number, inputs: Sequence, opts?: UnrollOptions & { mergeOutputs?: false }): [Symbol[], Symbol[]];
  unroll(length: number, inputs: Sequence, opts?: UnrollOptions): [Sequence, Symbol[]];
  unroll(length: number, inputs: Sequence, opts: UnrollOptions = {}): [Sequence, Symbol[]] {
    if (!Number.isInteger(length) || length < 1) throw new GraphError(`unroll length must be a positive integer, got ${length}`);
    return this.unrollSteps(length, inputs, opts.beginState, opts.layout ?? "NTC", opts.mergeOutputs);
  }

  /** The body of `unroll`, which container cells override. */
  protected unrollSteps(length: number, inputs: Sequence, beginState: Symbol[] | undefined, layout: string, merge: boolean | undefined): [Sequence, Symbol[]] {
    this.reset();
    const steps = normalizeSequence(length, inputs, layout, false) as Symbol[];
    let states = beginState ?? this.beginState();
    const outputs: Symbol[] = [];
    for (let t = 0; t < length; t++) {
      const [out, next] = this.call(steps[t], states);
      outputs.push(out);
      states = next;
    }
    return [normalizeSequence(length, outputs, layout, merge), states];
  }

  /** The activation of a simple cell: an Activation op by name, or the caller's function. */
  protected activate(data: Symbol, activation: Activation, name: string): Symbol {
    return typeof activation === "string" ? sym.Activation({ data, act_type: activation, name }) : activation(data, name);
  }
}

/** An Activation `act_type`, or a function building the activation node with the given name. */
export type Activation = "relu" | "sigmoid" | "tanh" | "softrelu" | "softsign" | ((data: Symbol, name: string) => Symbol);

/** `sym.zeros(shape, dtype)` named and tagged as MXNet's `begin_state` does. */
function zerosState(args: BeginStateArgs): Symbol {
  return sym._zeros({ name: args.name, shape: args.shape, dtype: args.dtype, attr: args.attr });
}
