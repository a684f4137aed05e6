/**
 * The three stepping cells of `mx.rnn`: RNNCell, LSTMCell and GRUCell. Node names, parameter
 * names and the order of the packed gates follow MXNet 1.9.1 exactly, so a checkpoint trained
 * there loads here and the symbol JSON matches.
 */
import { Symbol } from "../symbol/symbol.js";
import { sym } from "../symbol/sym.js";
import { GraphError } from "../base/errors.js";
import { Activation, BaseRNNCell, CellOptions, StateInfo, outputsOf } from "./base.js";

function checkHidden(numHidden: number, cell: string): number {
  if (!Number.isInteger(numHidden) || numHidden < 1) throw new GraphError(`${cell}: numHidden must be a positive integer, got ${numHidden}`);
  return numHidden;
}

function checkStates(states: Symbol[], want: number, cell: string): void {
  if (!Array.isArray(states) || states.length !== want)
    throw new GraphError(`${cell}.call needs ${want} state symbol(s), got ${Array.isArray(states) ? states.length : typeof states}`);
}

/** Python's json.dumps of a float: `1.0`, not `1`. */
function jsonFloat(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/** The four weights every cell has: `<prefix>i2h_weight`, `i2h_bias`, `h2h_weight`, `h2h_bias`. */
interface CellWeights {
  iW: Symbol;
  iB: Symbol;
  hW: Symbol;
  hB: Symbol;
}

export interface RNNCellOptions extends CellOptions {
  numHidden: number;
  /** Default "tanh". */
  activation?: Activation;
}

/** out = activation(W_i·x + b_i + W_h·h + b_h) (MXNet's `RNNCell`, default prefix "rnn_"). */
export class RNNCell extends BaseRNNCell {
  readonly numHidden: number;
  readonly activation: Activation;
  private readonly w: CellWeights;

  constructor(opts: RNNCellOptions) {
    super({ prefix: "rnn_", ...opts });
    this.numHidden = checkHidden(opts.numHidden, "RNNCell");
    this.activation = opts.activation ?? "tanh";
    const p = this._params;
    this.w = { iW: p.get("i2h_weight"), iB: p.get("i2h_bias"), hW: p.get("h2h_weight"), hB: p.get("h2h_bias") };
  }

  get stateInfo(): StateInfo[] {
    return [{ shape: [0, this.numHidden], layout: "NC" }];
  }

  override get gateNames(): string[] {
    return [""];
  }

  call(inputs: Symbol, states: Symbol[]): [Symbol, Symbol[]] {
    checkStates(states, 1, "RNNCell");
    this.counter += 1;
    const name = `${this.prefix}t${this.counter}_`;
    const H = this.numHidden;
    const i2h = sym.FullyConnected({ data: inputs, weight: this.w.iW, bias: this.w.iB, num_hidden: H, name: `${name}i2h` });
    const h2h = sym.FullyConnected({ data: states[0], weight: this.w.hW, bias: this.w.hB, num_hidden: H, name: `${name}h2h` });
    const output = this.activate(i2h.plus(h2h), this.activation, `${name}out`);
    return [output, [output]];
  }
}

export interface LSTMCellOptions extends CellOptions {
  numHidden: number;
  /** Added to the forget gate's bias by the i2h_bias initializer (MXNet's LSTMBias). Default 1.0. */
  forgetBias?: number;
}

/**
 * Long short-term memory (MXNet's `LSTMCell`, default prefix "lstm_"). The 4·H rows of the
 * packed weights are the gates in the order i (input), f (forget), c (candidate), o (output):
 *   c' = σ(f)·c + σ(i)·tanh(g),  h' = σ(o)·tanh(c').
 * States are [h, c]; the output is h'.
 */
export class LSTMCell extends BaseRNNCell {
  readonly numHidden: number;
  readonly forgetBias: number;
  private readonly w: CellWeights;

  constructor(opts: LSTMCellOptions) {
    super({ prefix: "lstm_", ...opts });
    this.numHidden = checkHidden(opts.numHidden, "LSTMCell");
    this.forgetBias = opts.forgetBias ?? 1.0;
    const p = this._params;
    // MXNet creates i2h_weight, h2h_weight, then i2h_bias (with the LSTMBias initializer), then h2h_bias.
    const iW = p.get("i2h_weight");
    const hW = p.get("h2h_weight");
    const iB = p.get("i2h_bias", { init: `["lstmbias", {"forget_bias": ${jsonFloat(this.forgetBias)}}]` });
    const hB = p.get("h2h_bias");
    this.w = { iW, iB, hW, hB };
  }

  get stateInfo(): StateInfo[] {
    return [
      { shape: [0, this.numHidden], layout: "NC" },
      { shape: [0, this.numHidden], layout: "NC" },
    ];
  }

  override get gateNames(): string[] {
    return ["_i", "_f", "_c", "_o"];
  }

  call(inputs: Symbol, states: Symbol[]): [Symbol, Symbol[]] {
    checkStates(states, 2, "LSTMCell");
    this.counter += 1;
    const name = `${this.prefix}t${this.counter}_`;
    const H4 = this.numHidden * 4;
    const i2h = sym.FullyConnected({ data: inputs, weight: this.w.iW, bias: this.w.iB, num_hidden: H4, name: `${name}i2h` });
    const h2h = sym.FullyConnected({ data: states[0], weight: this.w.hW, bias: this.w.hB, num_hidden: H4, name: `${name}h2h` });
    const gates = outputsOf(sym.SliceChannel({ data: i2h.plus(h2h), num_outputs: 4, name: `${name}slice` }));
    const inGate = sym.Activation({ data: gates[0], act_type: "sigmoid", name: `${name}i` });
    const forgetGate = sym.Activation({ data: gates[1], act_type: "sigmoid", name: `${name}f` });
    const inTransform = sym.Activation({ data: gates[2], act_type: "tanh", name: `${name}c` });
    const outGate = sym.Activation({ data: gates[3], act_type: "sigmoid", name: `${name}o` });
    const nextC = sym._plus({ lhs: forgetGate.mul(states[1]), rhs: inGate.mul(inTransform), name: `${name}state` });
    const nextH = sym._mul({ lhs: outGate, rhs: sym.Activation({ data: nextC, act_type: "tanh" }), name: `${name}out` });
    return [nextH, [nextH, nextC]];
  }
}

export interface GRUCellOptions extends CellOptions {
  numHidden: number;
}

/**
 * Gated recurrent unit in cuDNN's form (MXNet's `GRUCell`, default prefix "gru_"). Gates r
 * (reset), z (update) and the candidate, in that order in the 3·H packed rows:
 *   h̃ = tanh(x_h + σ(r)·h_h),  h' = (1 − σ(z))·h̃ + σ(z)·h.
 * Node names keep MXNet's double underscore (`gru_t0__i2h`).
 */
export class GRUCell extends BaseRNNCell {
  readonly numHidden: number;
  private readonly w: CellWeights;

  constructor(opts: GRUCellOptions) {
    super({ prefix: "gru_", ...opts });
    this.numHidden = checkHidden(opts.numHidden, "GRUCell");
    const p = this._params;
    this.w = { iW: p.get("i2h_weight"), iB: p.get("i2h_bias"), hW: p.get("h2h_weight"), hB: p.get("h2h_bias") };
  }

  get stateInfo(): StateInfo[] {
    return [{ shape: [0, this.numHidden], layout: "NC" }];
  }

  override get gateNames(): string[] {
    return ["_r", "_z", "_o"];
  }

  call(inputs: Symbol, states: Symbol[]): [Symbol, Symbol[]] {
    checkStates(states, 1, "GRUCell");
    this.counter += 1;
    const name = `${this.prefix}t${this.counter}_`;
    const H3 = this.numHidden * 3;
    const prevH = states[0];
    const i2hAll = sym.FullyConnected({ data: inputs, weight: this.w.iW, bias: this.w.iB, num_hidden: H3, name: `${name}_i2h` });
    const h2hAll = sym.FullyConnected({ data: prevH, weight: this.w.hW, bias: this.w.hB, num_hidden: H3, name: `${name}_h2h` });
    const [i2hR, i2hZ, i2h] = outputsOf(sym.SliceChannel({ data: i2hAll, num_outputs: 3, name: `${name}_i2h_slice` }));
    const [h2hR, h2hZ, h2h] = outputsOf(sym.SliceChannel({ data: h2hAll, num_outputs: 3, name: `${name}_h2h_slice` }));
    const resetGate = sym.Activation({ data: i2hR.plus(h2hR), act_type: "sigmoid", name: `${name}_r_act` });
    const updateGate = sym.Activation({ data: i2hZ.plus(h2hZ), act_type: "sigmoid", name: `${name}_z_act` });
    const candidate = sym.Activation({ data: i2h.plus(resetGate.mul(h2h)), act_type: "tanh", name: `${name}_h_act` });
    const nextH = sym._plus({ lhs: updateGate.rminus(1).mul(candidate), rhs: updateGate.mul(prevH), name: `${name}out` });
    return [nextH, [nextH]];
  }
}
