/**
 * Every registered operator must be checked forward (against independent values) and, when
 * it has a gradient, backward (against finite differences) somewhere in the op tests.
 * Runs after every other test, as a root-level hook.
 */
import { expect } from "chai";
import { listOps } from "../../index.js";
import { forwardChecked, gradientChecked } from "../helpers/op_check.js";

/** Ops whose gradient is checked by hand-computed values instead (loss ops, random ops). */
export const gradientCheckedByHand = new Set<string>();

after(function () {
  // Only meaningful when the whole op suite ran (not under --grep).
  if (forwardChecked.size < 20) return;
  const ops = listOps().filter((op) => !op.name.startsWith("_backward_"));
  const noForward = ops.filter((op) => !forwardChecked.has(op.name)).map((op) => op.name);
  const noGrad = ops
    // Ops without inputs (_zeros, _ones) have nothing to differentiate.
    .filter((op) => op.gradient && (op.inputs.length > 0 || op.variadic))
    .filter((op) => !gradientChecked.has(op.name) && !gradientCheckedByHand.has(op.name))
    .map((op) => op.name);
  expect(noForward, "ops without a forward check").to.deep.equal([]);
  expect(noGrad, "ops without a gradient check").to.deep.equal([]);
});
