/**
 * `_random_uniform`: the random numbers of compiled graphs. Element i of stream `stream` under
 * the seed in its 1-element int64 input is philox_uniform(seed, stream, i) (Philox-4x32-10,
 * te/scalar_fns.ts): counter-based, so any element is computed independently, in any order,
 * identically by the interpreter, C++ and CUDA. The executor advances the seed every forward
 * pass (DecomposeCtx.randomSeed); ops that draw random numbers (Dropout) decompose into it,
 * each node with its own stream (`randomStream(name)`).
 */
import { defineOp, singleOutput } from "./registry.js";
import { P } from "./params.js";
import { Tensor } from "./tensor.js";
import { call, int, ix } from "../te/expr.js";
import { SCALAR_FNS } from "../te/scalar_fns.js";
import { shapeSize } from "../base/shape.js";

export const randomUniform = defineOp({
  name: "_random_uniform",
  doc: "Uniform numbers in [0, 1) from Philox-4x32-10: element i is philox_uniform(seed[0], stream, i).",
  params: {
    shape: P.tuple.required("Output shape."),
    stream: P.int(0, "Random stream: different streams under one seed are independent."),
    dtype: P.dtype("float32"),
  },
  inputs: ["seed"],
  ...singleOutput,
  pattern: "broadcast",
  inferShape: (ctx, p) => {
    ctx.setIn(0, [1]);
    ctx.setOut(0, p.shape);
  },
  // The seed is read as an integer whatever its type (the executor's is int64).
  inferType: (ctx, p) => ctx.setOut(0, p.dtype),
  compute: (ctx, p) => [{ kind: "map", value: call("philox_uniform", ctx.inputs[0].at([int(0)]), int(p.stream), ix.flatten(ctx.index(), p.shape)) }],
  forward: (p, [seed]) => {
    const n = shapeSize(p.shape);
    const out = new Tensor(p.shape);
    for (let i = 0; i < n; i++) out.data[i] = SCALAR_FNS.philox_uniform(seed.data[0], p.stream, i);
    return [out];
  },
});

/** A stream id for a node: a 31-bit FNV-1a hash of its name, so nodes draw independent numbers. */
export function randomStream(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h & 0x7fffffff;
}
