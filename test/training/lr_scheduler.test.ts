/** Learning-rate schedules: the sequences MXNet's FactorScheduler and MultiFactorScheduler give. */
import { expect } from "chai";
import { FactorScheduler, MultiFactorScheduler } from "../../runtime/training/lr_scheduler.js";
import { KilnError } from "../../index.js";

const seq = (f: (n: number) => number, n: number): number[] => Array.from({ length: n }, (_, i) => f(i + 1));
const close = (got: number[], want: number[]): void => {
  expect(got.length).to.equal(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `update ${i + 1}: got ${g}, want ${want[i]}`).to.be.below(1e-15));
};

describe("lr_scheduler", () => {
  it("FactorScheduler: base·factor^floor((n−1)/step)", () => {
    const s = new FactorScheduler({ step: 3, factor: 0.5, baseLr: 1 });
    close(seq((n) => s.lr(n), 10), [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]);
  });

  it("FactorScheduler stops at stopFactorLr", () => {
    const s = new FactorScheduler({ step: 1, factor: 0.1, stopFactorLr: 0.005, baseLr: 1 });
    close(seq((n) => s.lr(n), 5), [1, 0.1, 0.010000000000000002, 0.005, 0.005]);
  });

  it("FactorScheduler asked at a later update first applies every decay so far (resuming)", () => {
    const s = new FactorScheduler({ step: 2, factor: 0.5, baseLr: 0.8 });
    expect(s.lr(7)).to.equal(0.1);
    expect(s.lr(8)).to.equal(0.1);
    expect(s.lr(9)).to.equal(0.05);
  });

  it("warms up linearly or at a constant rate before the schedule", () => {
    const lin = new FactorScheduler({ step: 100, factor: 0.5, baseLr: 1, warmupSteps: 4, warmupBeginLr: 0.2 });
    close(seq((n) => lin.lr(n), 5), [0.4, 0.6000000000000001, 0.8, 1, 1]);
    const cst = new FactorScheduler({ step: 100, baseLr: 1, warmupSteps: 3, warmupBeginLr: 0.1, warmupMode: "constant" });
    close(seq((n) => cst.lr(n), 4), [0.1, 0.1, 1, 1]);
  });

  it("MultiFactorScheduler decays after each step mark", () => {
    const s = new MultiFactorScheduler({ step: [2, 5], factor: 0.1, baseLr: 1 });
    close(seq((n) => s.lr(n), 7), [1, 1, 0.1, 0.1, 0.1, 0.010000000000000002, 0.010000000000000002]);
  });

  it("rejects bad settings with messages naming them", () => {
    expect(() => new FactorScheduler({ step: 0 })).to.throw(KilnError, /step must be at least 1/);
    expect(() => new FactorScheduler({ step: 2, factor: 2 })).to.throw(KilnError, /factor must be at most 1/);
    expect(() => new MultiFactorScheduler({ step: [3, 3] })).to.throw(KilnError, /steps must increase.*step\[1\] = 3/);
    expect(() => new MultiFactorScheduler({ step: [] })).to.throw(KilnError, /at least one/);
  });
});
