/**
 * Every operator compiles: its row has a compute rule or a decomposition, and every op test's
 * graph went through the compiled executor (op_check → compiled_check) without an op lacking
 * one. The second check runs after the whole suite (root-level hook, as the op coverage test).
 */
import { expect } from "chai";
import { listOps } from "../../index.js";
import { compiledChecked, compiledSkipped } from "../helpers/compiled_check.js";

describe("compiled executor: coverage", () => {
  it("every op row has a compute rule or a decomposition", () => {
    const missing = listOps()
      .filter((op) => !op.compute && !op.decompose)
      .map((op) => op.name);
    expect(missing).to.deep.equal([]);
  });
});

after(function () {
  // Only meaningful when the op suite ran.
  if (compiledChecked.graphs < 20) return;
  if (compiledChecked.gpu > 0) console.log(`  op test graphs also checked on gpu(0): ${compiledChecked.gpu}`);
  expect([...compiledSkipped.values()], "op test graphs the compiled executor could not compile").to.deep.equal([]);
});
