/**
 * Every op a family lists in COMPUTE_REQUIRED must have a `compute` or a `decompose`, and every
 * one with a compute and no decompose must have had that compute checked against its
 * reference (computeChecked) by the op tests. Ops with a decompose are checked through the
 * compiled executor instead. Families list their ops from their test files:
 *     import * as familyOps from "../../compiler/ops/<family>.js"; requireComputes(familyOps);
 *   or COMPUTE_REQUIRED.add(...names).
 * Runs after every other test, as a root-level hook, and only when every test ran and passed
 * (under --grep, or after a failure, a missing check says nothing).
 */
import { expect } from "chai";
import { findOp, listOps } from "../../index.js";
import { computeChecked } from "../helpers/compute_check.js";

/** Names of the ops whose compute rules must exist and be checked. */
export const COMPUTE_REQUIRED = new Set<string>();

/** Adds the op rows a module exports, with each one's internal `_backward_<name>` row. */
export function requireComputes(...modules: object[]): void {
  for (const m of modules) {
    for (const value of Object.values(m)) {
      const name = (value as { name?: unknown } | null)?.name;
      if (typeof name !== "string" || findOp(name) !== value) continue;
      COMPUTE_REQUIRED.add(name);
      if (findOp(`_backward_${name}`)?.name === `_backward_${name}`) COMPUTE_REQUIRED.add(`_backward_${name}`);
    }
  }
}

interface RunnableLike {
  state?: string;
  isPending(): boolean;
}
interface SuiteLike {
  tests: RunnableLike[];
  suites: SuiteLike[];
}

function everyTestPassed(s: SuiteLike): boolean {
  return s.tests.every((t) => t.isPending() || t.state === "passed") && s.suites.every(everyTestPassed);
}

after(function () {
  if (COMPUTE_REQUIRED.size === 0 || !everyTestPassed(this.test!.parent as unknown as SuiteLike)) return;
  const registered = new Set(listOps().map((op) => op.name));
  const unknown = [...COMPUTE_REQUIRED].filter((n) => !registered.has(n));
  const ops = listOps().filter((op) => COMPUTE_REQUIRED.has(op.name));
  const noRule = ops.filter((op) => !op.compute && !op.decompose).map((op) => op.name);
  const unchecked = ops.filter((op) => op.compute && !op.decompose && !computeChecked.has(op.name)).map((op) => op.name);
  expect(unknown, "COMPUTE_REQUIRED names no registered op").to.deep.equal([]);
  expect(noRule, "ops without compute or decompose").to.deep.equal([]);
  expect(unchecked, "ops whose compute no op test checked").to.deep.equal([]);
});
