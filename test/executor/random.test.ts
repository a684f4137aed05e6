/**
 * Random numbers of compiled graphs: Philox-4x32-10 against Random123's known answers,
 * `_random_uniform` on the reference and compiled executors, and Dropout in training on the
 * compiled executor. Dropout's masks come from Philox, not from the reference executor's
 * generator, so it is checked by its properties: the kept fraction, out = data·mask, the
 * gradient ograd·mask with the forward pass's mask, and a new mask every forward pass.
 */
import { expect } from "chai";
import { sym, cpu, NDArray } from "../../index.js";
import { philox4x32, SCALAR_FNS } from "../../compiler/te/scalar_fns.js";
import { randomStream } from "../../compiler/ops/random.js";
import { checkForward } from "../helpers/op_check.js";
import "../../runtime/executor/compiled_binder.js";

describe("compiled executor: random numbers", () => {
  it("Philox-4x32-10 gives Random123's known answers", () => {
    const hex = (w: number[]): string => w.map((x) => x.toString(16).padStart(8, "0")).join(" ");
    expect(hex(philox4x32([0, 0, 0, 0], [0, 0]))).to.equal("6627e8d5 e169c58d bc57ac4c 9b00dbd8");
    const ones = 0xffffffff;
    expect(hex(philox4x32([ones, ones, ones, ones], [ones, ones]))).to.equal("408f276d 41c83b0e a20bc7c6 6d5451fd");
    expect(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]))).to.equal("d16cfe09 94fdcceb 5001e420 24126ea1");
  });

  it("_random_uniform is philox_uniform of the seed, the stream and the flat index", () => {
    // Key (seed, 0), counter (i, 0, stream, 0): the first word's top 24 bits over 2^24.
    const want = (seed: number, stream: number, i: number): number => (philox4x32([i, 0, stream, 0], [seed, 0])[0] >>> 8) / 2 ** 24;
    const u = sym._random_uniform({ seed: sym.Variable("seed"), shape: [2, 3], stream: 5, dtype: "float64" });
    checkForward(u, { shapes: { seed: [1] }, values: { seed: [42] }, expected: [Array.from({ length: 6 }, (_, i) => want(42, 5, i))] });
    expect(SCALAR_FNS.philox_uniform(42, 5, 0)).to.equal(want(42, 5, 0));
  });

  it("gives independent streams to differently named nodes", () => {
    expect(randomStream("drop1")).to.not.equal(randomStream("drop2"));
    expect(randomStream("drop1")).to.equal(randomStream("drop1"));
  });

  for (const backend of ["interpret", "cpp"] as const) {
    it(`Dropout in training (${backend}): keeps about 1−p, scales by 1/(1−p), backward uses the same mask`, () => {
      const p = 0.3;
      const d = sym.Dropout({ data: sym.Variable("data"), p, name: "drop" });
      const exe = d.simpleBind({ ctx: cpu(), shapes: { data: [40, 50] }, typeDict: { data: "float64" }, compile: backend === "interpret" ? { backend } : {} });
      const x = Array.from({ length: 2000 }, (_, i) => 1 + (i % 7));
      exe.argDict.data.set(x);
      const out = exe.forward(true)[0].toArray();
      const kept = out.map((o) => (o !== 0 ? 1 : 0));
      const frac = kept.reduce((a: number, b) => a + b, 0) / out.length;
      expect(frac).to.be.closeTo(1 - p, 0.04);
      out.forEach((o, i) => expect(o).to.be.closeTo(kept[i] ? x[i] / (1 - p) : 0, 1e-12));
      const head = Array.from({ length: 2000 }, (_, i) => Math.cos(i));
      exe.backward([new NDArray([40, 50], "float64").set(head)]);
      const g = exe.gradDict.data.toArray();
      g.forEach((v, i) => expect(v).to.be.closeTo(kept[i] ? head[i] / (1 - p) : 0, 1e-12));
      // The next forward pass draws a new mask; inference draws none.
      const again = exe.forward(true)[0].toArray();
      expect(again.some((o, i) => (o !== 0) !== (kept[i] === 1))).to.equal(true);
      expect(exe.forward(false)[0].toArray()).to.deep.equal(x);
    });
  }

  it("Dropout with axes shares one mask value along them", () => {
    const d = sym.Dropout({ data: sym.Variable("data"), p: 0.5, axes: [1], name: "drop" });
    const exe = d.simpleBind({ ctx: cpu(), shapes: { data: [50, 40] }, compile: { backend: "interpret" } });
    exe.argDict.data.set(1);
    const out = exe.forward(true)[0].toArray();
    const rows = Array.from({ length: 50 }, (_, r) => new Set(out.slice(r * 40, r * 40 + 40)));
    expect(rows.every((s) => s.size === 1)).to.equal(true);
    expect(rows.filter((s) => s.has(0)).length).to.be.within(10, 40);
  });
});
