/**
 * Checks op rows' tensor-expression `compute` rules against their reference implementations,
 * node by node, on the values of a reference run: every op test that binds a graph checks the
 * compute rules of every node in it (forward and backward) for free.
 */
import { expect } from "chai";
import type { Executor } from "../../index.js";
import { ReferenceExecutor } from "../../runtime/executor/reference.js";
import { makeComputeCtx, stageOf, TensorType } from "../../compiler/te/stage.js";
import { evalStage } from "../../compiler/te/interpret.js";

export const computeChecked = new Set<string>();

/** Relative tolerance: both sides are float64, only the order of operations differs. */
const TOL = 1e-9;

export function checkComputes(exe: Executor): void {
  if (!(exe instanceof ReferenceExecutor)) return;
  for (const { node, inputs, outputs } of exe.trace()) {
    const op = node.op!;
    if (!op.compute) continue;
    const inTypes: TensorType[] = inputs.map((t) => ({ shape: t.shape, dtype: "float64" }));
    const outTypes: TensorType[] = outputs.map((t) => ({ shape: t.shape, dtype: "float64" }));
    let bodies;
    try {
      bodies = op.compute(makeComputeCtx(inTypes, outTypes), node.params as never);
    } catch (e) {
      throw new Error(`compute of ${node.name} (${op.name}) failed: ${(e as Error).message}`);
    }
    expect(bodies.length, `compute of ${op.name} returns one body per output`).to.equal(outputs.length);
    bodies.forEach((body, k) => {
      const got = evalStage(stageOf(inTypes, outTypes[k], body), inputs);
      const want = outputs[k];
      for (let i = 0; i < want.size; i++) {
        const w = want.data[i];
        const g = got.data[i];
        const ok = (Number.isNaN(w) && Number.isNaN(g)) || Math.abs(g - w) <= TOL * Math.max(1, Math.abs(w));
        if (!ok) expect.fail(`compute of ${node.name} (${op.name}) output ${k}[${i}]: interpreter ${g}, reference ${w}`);
      }
    });
    computeChecked.add(op.name);
  }
}
