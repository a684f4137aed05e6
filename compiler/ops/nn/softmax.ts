/**
 * softmax and log_softmax along an axis (optionally with a temperature, an output dtype, and
 * per-row lengths that mask the tail of each row to 0), with their internal gradient ops.
 * Pattern: opaque (a max and a sum reduction around an elementwise body; TVM also marks
 * softmax opaque). For code generation every row decomposes into reductions and broadcasts
 * (softmax_graph.ts), computed in the wider of the data's and the output's types.
 */
import { defineOp, singleOutput, ShapeCtx, TypeCtx } from "../registry.js";
import { P, ParamValues } from "../params.js";
import { Tensor } from "../tensor.js";
import { ShapeError } from "../../base/errors.js";
import { shapeToBracket } from "../../base/shape.js";
import { axisOf, optionalEnum, splitAtAxis } from "./common.js";
import { lengthShape } from "./length_mask.js";
import { softmaxGraph, softmaxGradGraph, castEntry, widerType } from "./softmax_graph.js";

const softmaxParams = {
  axis: P.int(-1, "The axis along which to compute."),
  temperature: P.float.optional("Temperature T: softmax(x / T); None means 1."),
  dtype: optionalEnum(["float16", "float32", "float64"] as const, "Output type; None keeps the input's."),
  use_length: P.bool.optional("Take a `length` input: positions at or beyond a row's length are masked to 0."),
};
type SoftmaxParams = ParamValues<typeof softmaxParams>;

/** Calls f(offsets of one row along the axis, row index among the rows) for every row. */
function forEachRow(shape: readonly number[], axis: number, f: (at: (j: number) => number, n: number, row: number) => void): void {
  const [outer, n, inner] = splitAtAxis(shape, axis);
  for (let o = 0; o < outer; o++)
    for (let k = 0; k < inner; k++) {
      const base = o * n * inner + k;
      f((j) => base + j * inner, n, o * inner + k);
    }
}

function rowLength(length: Tensor | undefined, row: number, n: number): number {
  if (!length) return n;
  return Math.max(0, Math.min(n, Math.trunc(length.data[row])));
}

function inferSoftmaxShape(ctx: ShapeCtx, p: SoftmaxParams): void {
  const d = ctx.in(0) ?? ctx.out(0);
  if (d === undefined) return;
  ctx.setIn(0, d);
  ctx.setOut(0, d);
  const axis = axisOf(p.axis, d, "softmax");
  if (p.use_length) ctx.setIn(1, lengthShape(d, axis));
}

function inferSoftmaxType(ctx: TypeCtx, p: SoftmaxParams): void {
  // The length may be any type; the output takes `dtype` when given, else the data's type.
  if (p.dtype !== null) ctx.setOut(0, p.dtype);
  else {
    const t = ctx.in(0) ?? ctx.out(0);
    ctx.setIn(0, t);
    ctx.setOut(0, t);
  }
}

function softmaxRows(p: SoftmaxParams, x: Tensor, length: Tensor | undefined, log: boolean): Tensor {
  const axis = axisOf(p.axis, x.shape, log ? "log_softmax" : "softmax");
  const T = p.temperature ?? 1;
  const out = new Tensor(x.shape);
  forEachRow(x.shape, axis, (at, n, row) => {
    const len = rowLength(length, row, n);
    let max = -Infinity;
    for (let j = 0; j < len; j++) max = Math.max(max, x.data[at(j)]);
    let sum = 0;
    for (let j = 0; j < len; j++) sum += Math.exp((x.data[at(j)] - max) / T);
    for (let j = 0; j < len; j++) {
      const z = (x.data[at(j)] - max) / T;
      out.data[at(j)] = log ? z - Math.log(sum) : Math.exp(z) / sum;
    }
  });
  return out;
}

function softmaxFamily<const N extends string, const B extends string>(name: N, backward: B, log: boolean) {
  const forwardRow = defineOp({
    name,
    doc: log
      ? "log(softmax(data / temperature)) along `axis`."
      : "exp(data / temperature) normalized to sum to 1 along `axis`.",
    params: softmaxParams,
    inputs: ["data", "length"],
    activeInputs: (p) => (p.use_length ? ["data", "length"] : ["data"]),
    ...singleOutput,
    pattern: "opaque",
    inferShape: inferSoftmaxShape,
    inferType: inferSoftmaxType,
    gradient: (g) => {
      const extra = [...(g.params.use_length ? [g.input(1)] : []), ...(g.params.dtype !== null ? [g.input(0)] : [])];
      const dx = g.op1(backward, [g.ograd(), g.output(0), ...extra], g.params);
      return g.params.use_length ? [dx, null] : [dx];
    },
    decompose: (d, p) => {
      const axis = axisOf(p.axis, d.inputShape(0), name);
      const [inT, outT] = [d.inputType(0), d.outputType(0)];
      const work = widerType(inT, outT);
      const spec = { axis, temperature: p.temperature ?? 1, log, length: p.use_length ? d.input(1) : undefined };
      return [castEntry(d, softmaxGraph(d, castEntry(d, d.input(0), inT, work), spec), work, outT)];
    },
    forward: (p, [x, length]) => [softmaxRows(p, x, p.use_length ? length : undefined, log)],
  });
  const backwardRow = defineOp({
    name: backward,
    doc: log
      ? "Gradient of log_softmax: (ograd − softmax · Σ ograd) / temperature."
      : "Gradient of softmax: out · (ograd − Σ ograd·out) / temperature.",
    params: softmaxParams,
    inputs: ["ograd", "output", "length", "data"],
    activeInputs: (p) => ["ograd", "output", ...(p.use_length ? ["length" as const] : []), ...(p.dtype !== null ? ["data" as const] : [])],
    ...singleOutput,
    pattern: "opaque",
    inferShape: (ctx) => ctx.setOut(0, ctx.in(1)),
    inferType: (ctx, p) => ctx.setOut(0, p.dtype !== null ? ctx.in(p.use_length ? 3 : 2) : ctx.in(0)),
    decompose: (d, p) => {
      const axis = axisOf(p.axis, d.inputShape(1), name);
      const [inT, outT] = [d.inputType(0), d.outputType(0)];
      const work = widerType(inT, outT);
      const spec = { axis, temperature: p.temperature ?? 1, log, length: p.use_length ? d.input(2) : undefined };
      const [og, y] = [0, 1].map((i) => castEntry(d, d.input(i), d.inputType(i), work));
      return [castEntry(d, softmaxGradGraph(d, og, y, spec), work, outT)];
    },
    forward: (p, [og, y, third]) => {
      const axis = axisOf(p.axis, y.shape, name);
      if (og.size !== y.size) throw new ShapeError(`ograd ${shapeToBracket(og.shape)} does not match output ${shapeToBracket(y.shape)}`);
      const length = p.use_length ? third : undefined;
      const T = p.temperature ?? 1;
      const dx = new Tensor(y.shape);
      forEachRow(y.shape, axis, (at, n, row) => {
        const len = rowLength(length, row, n);
        let s = 0;
        for (let j = 0; j < len; j++) s += log ? og.data[at(j)] : og.data[at(j)] * y.data[at(j)];
        for (let j = 0; j < len; j++) {
          const i = at(j);
          dx.data[i] = (log ? og.data[i] - Math.exp(y.data[i]) * s : y.data[i] * (og.data[i] - s)) / T;
        }
      });
      return [dx];
    },
  });
  return [forwardRow, backwardRow] as const;
}

export const [softmax, backwardSoftmax] = softmaxFamily("softmax", "_backward_softmax", false);
export const [logSoftmax, backwardLogSoftmax] = softmaxFamily("log_softmax", "_backward_log_softmax", true);
