/**
 * MXNet's symbolic RNN cells (`mx.rnn`): build recurrent networks step by step or unrolled
 * over time from FullyConnected, SliceChannel and elementwise nodes.
 *
 * ```ts
 * const cell = new rnn.LSTMCell({ numHidden: 256, prefix: "lstm1_" });
 * const [outputs, states] = cell.unroll(49, sym.Variable("data"), { layout: "NTC" });
 * ```
 */
import { BaseRNNCell, RNNParams } from "./base.js";
import { RNNCell, LSTMCell, GRUCell } from "./cells.js";
import { SequentialRNNCell } from "./sequential.js";

export { BaseRNNCell, RNNParams, normalizeSequence } from "./base.js";
export type { StateInfo, BeginStateFunc, BeginStateArgs, BeginStateOptions, UnrollOptions, Sequence, CellOptions, Activation } from "./base.js";
export { RNNCell, LSTMCell, GRUCell } from "./cells.js";
export type { RNNCellOptions, LSTMCellOptions, GRUCellOptions } from "./cells.js";
export { SequentialRNNCell } from "./sequential.js";

/** The cells as one namespace, as `mx.rnn`. */
export const rnn = { RNNCell, LSTMCell, GRUCell, SequentialRNNCell, BaseRNNCell, RNNParams };
