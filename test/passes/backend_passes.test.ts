/**
 * The back-end passes one at a time: decompose (pure, aux writes, to a fixed point), fuse
 * (which groups form, and which must not), planMemory (in place, pool reuse, nothing unread
 * written), mirroring, and user passes in the pass manager.
 */
import { expect } from "chai";
import { sym, Symbol, withNameManager, cpu, nd } from "../../index.js";
import { Graph } from "../../compiler/ir/graph.js";
import { Node } from "../../compiler/ir/node.js";
import { inferShapes } from "../../compiler/passes/infer_shape.js";
import { inferTypes } from "../../compiler/passes/infer_type.js";
import { decompose } from "../../compiler/passes/decompose.js";
import { registerPass, unregisterPass, PassManager } from "../../compiler/passes/pass_manager.js";
import { compileSymbol, CompiledSymbol } from "../../runtime/executor/compile_symbol.js";
import "../../runtime/executor/compiled_binder.js";

const opsOf = (c: CompiledSymbol): string[][] => c.kernels.map((k) => [...k.ops]);

describe("decompose pass", () => {
  it("rewrites BatchNorm in training without touching the input graph, recording aux writes", () =>
    withNameManager(() => {
      const net = sym.BatchNorm({ data: sym.Variable("data"), fix_gamma: false, name: "bn" });
      const g = net.graph();
      const before = g.nodes.map((n) => [n.name, n.op?.name, n.inputs.map((e) => e.node.name).join(","), JSON.stringify(n.attrs)]);
      const known = new Map([["data", [4, 3]]]);
      const r = decompose(g, inferShapes(g, known), inferTypes(g, new Map()), { isTrain: true });
      expect(g.nodes.map((n) => [n.name, n.op?.name, n.inputs.map((e) => e.node.name).join(","), JSON.stringify(n.attrs)])).to.deep.equal(before);
      expect(r.graph.nodes.some((n) => n.op?.name === "BatchNorm")).to.equal(false);
      expect(r.auxWrites.map((w) => w.variable.name).sort()).to.deep.equal(["bn_moving_mean", "bn_moving_var"]);
      // The output of the node maps to an entry of the new graph; every op left has a compute rule.
      expect(r.graph.hasNode(r.map(net.outputs[0]).node)).to.equal(true);
      expect(r.graph.nodes.every((n) => !n.op || n.op.compute)).to.equal(true);
    }));

  it("keeps nodes whose rule declines (Dropout in inference is a copy, not a random mask)", () =>
    withNameManager(() => {
      const net = sym.Dropout({ data: sym.Variable("data"), p: 0.5 });
      const g = net.graph();
      const r = decompose(g, inferShapes(g, new Map([["data", [2, 2]]])), inferTypes(g, new Map()), { isTrain: false });
      expect(r.seed).to.equal(undefined);
      const t = decompose(g, inferShapes(g, new Map([["data", [2, 2]]])), inferTypes(g, new Map()), { isTrain: true });
      expect(t.seed?.name).to.equal("__random_seed__");
    }));
});

describe("fuse and lower", () => {
  const shapes = { x: [4, 8], y: [4, 8] };

  it("an elementwise chain becomes one kernel; fuse: false gives one per node", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      const net = sym.tanh({ data: sym.exp({ data: x.mul(sym.Variable("y")).plus(1) }) });
      expect(opsOf(compileSymbol(net, { shapes }))).to.deep.equal([["elemwise_mul", "_plus_scalar", "exp", "tanh"]]);
      expect(compileSymbol(net, { shapes, fuse: false }).kernels).to.have.length(4);
    }));

  it("FullyConnected takes its epilogue (activation, residual add) but no prologue", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      const fc = sym.FullyConnected({ data: sym.relu({ data: x }), num_hidden: 8, name: "fc" });
      const net = sym.Activation({ data: fc.plus(sym.Variable("y")), act_type: "relu" });
      const ops = opsOf(compileSymbol(net, { shapes }));
      expect(ops).to.deep.equal([["relu"], ["FullyConnected", "elemwise_add", "Activation"]]);
    }));

  it("a reduction takes an elementwise prologue and epilogue", () =>
    withNameManager(() => {
      const net = sym.sqrt({ data: sym.sum({ data: sym.square({ data: sym.Variable("x") }), axis: 1 }) });
      expect(opsOf(compileSymbol(net, { shapes: { x: [4, 8] } }))).to.deep.equal([["square", "sum", "sqrt"]]);
    }));

  it("softmax: three passes, the cheap exp(x − max) recomputed by its two readers", () =>
    withNameManager(() => {
      const c = compileSymbol(sym.softmax({ data: sym.Variable("x") }), { shapes: { x: [4, 8] } });
      expect(c.kernels).to.have.length(3);
      expect(c.kernels.filter((k) => k.ops.includes("exp"))).to.have.length(2);
    }));

  it("a producer with an expensive body and two readers is materialized once", () =>
    withNameManager(() => {
      const a = sym.FullyConnected({ data: sym.Variable("x"), num_hidden: 8, name: "fc" });
      const net = sym.Group([sym.exp({ data: a }), sym.log({ data: a })]);
      const c = compileSymbol(net, { shapes: { x: [4, 8] } });
      expect(c.kernels.filter((k) => k.ops.includes("FullyConnected"))).to.have.length(1);
    }));

  it("never fuses a forward node into a backward kernel", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      const net = sym.MakeLoss({ data: sym.sum({ data: sym.exp({ data: x.mul(sym.Variable("y")) }) }) });
      const c = compileSymbol(net, { shapes, isTrain: true });
      const forwardNodes = new Set(net.graph().nodes.map((n) => n.name));
      for (const k of c.kernels) {
        const phases = new Set(k.nodes.map((n) => (forwardNodes.has(n) ? "forward" : "backward")));
        expect(phases.size, k.name).to.be.at.most(1);
        if (k.nodes.length) expect([...phases][0]).to.equal(k.phase);
      }
    }));
});

describe("planMemory", () => {
  it("runs an unfused elementwise chain in place and reuses freed blocks", () =>
    withNameManager(() => {
      let y: Symbol = sym.Variable("x");
      for (let i = 0; i < 6; i++) y = sym.exp({ data: y });
      y = sym.sum({ data: y });
      const c = compileSymbol(y, { shapes: { x: [64, 64] }, fuse: false });
      // exp 1 needs a block (it cannot overwrite the argument); exps 2–6 overwrite it.
      expect(c.memory.inplace).to.equal(5);
      expect(c.memory.arenaBytes).to.equal(64 * 64 * 4);
      expect(c.memory.naiveBytes).to.equal(6 * 64 * 64 * 4 + 4);
      expect(c.memory.plannedBytes).to.equal(64 * 64 * 4 + 4);
    }));

  it("puts outputs and gradients in the bound arrays, not the arena", () =>
    withNameManager(() => {
      const net = sym.MakeLoss({ data: sym.square({ data: sym.Variable("x") }) });
      const c = compileSymbol(net, { shapes: { x: [16] }, isTrain: true });
      expect(c.memory.arenaBytes).to.equal(0);
      expect(c.debugStr()).to.match(/-> output\[0\]/).and.to.match(/-> grad\[0\]/);
    }));

  it("mirroring recomputes __force_mirroring__ nodes in backward and keeps less", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      let h = sym.FullyConnected({ data: x, num_hidden: 64, name: "fc1" });
      const act = sym.Activation({ data: sym.sin({ data: h }), act_type: "softsign", name: "act" });
      h = sym.FullyConnected({ data: act, num_hidden: 64, name: "fc2" });
      const net = sym.MakeLoss({ data: sym.sum({ data: h }) });
      const plain = compileSymbol(net, { shapes: { x: [32, 64] }, isTrain: true });
      const mirrored = compileSymbol(net, { shapes: { x: [32, 64] }, isTrain: true, mirror: true });
      expect(mirrored.memory.mirrored).to.be.greaterThan(0);
      expect(mirrored.kernels.some((k) => k.phase === "backward" && k.nodes.some((n) => n.endsWith("_mirror")))).to.equal(true);
      expect(mirrored.memory.plannedBytes).to.be.below(plain.memory.plannedBytes);
      // Marking the node forces the same without the global switch.
      act.setAttr({ __force_mirroring__: "True" });
      expect(compileSymbol(net, { shapes: { x: [32, 64] }, isTrain: true }).memory.mirrored).to.be.greaterThan(0);
    }));
});

describe("pass manager", () => {
  it("runs a user pass after decompose and keeps the result correct", () =>
    withNameManager(() => {
      const seen: string[] = [];
      registerPass({
        name: "drop-times-one",
        after: "decompose",
        run(g: Graph): Graph {
          // x * 1 → x: rebuild consumers of `_mul_scalar(scalar=1)` nodes to read the input.
          const repl = new Map<Node, Node>();
          const map = (e: { node: Node; index: number }) => {
            const n = e.node;
            if (n.op?.name === "_mul_scalar" && Number(n.attrs.scalar) === 1) return map(n.inputs[0]);
            const r = repl.get(n);
            return r ? r.entry(e.index) : e;
          };
          for (const n of g.nodes) {
            seen.push(n.op?.name ?? "var");
            if (!n.op) continue;
            const ins = n.inputs.map(map);
            if (ins.some((e, i) => e !== n.inputs[i])) repl.set(n, new Node(n.op, n.name, n.attrs, ins));
          }
          return new Graph(g.outputs.map(map));
        },
      });
      try {
        const net = sym.exp({ data: sym.Variable("x").mul(1) });
        const c = compileSymbol(net, { shapes: { x: [3] } });
        expect(seen).to.include("_mul_scalar");
        expect(c.kernels.flatMap((k) => k.ops)).to.deep.equal(["exp"]);
        const exe = net.simpleBind({ ctx: cpu(), shapes: { x: [3] }, compile: { backend: "interpret" } });
        exe.argDict.x.set([0, 1, 2]);
        expect(exe.forward()[0].toArray().map((v) => Math.round(v * 1e4) / 1e4)).to.deep.equal([1, 2.7183, 7.3891]);
      } finally {
        unregisterPass("drop-times-one");
      }
    }));

  it("logs a line per pass at KILN_DEBUG=1 and rejects unknown anchors", () => {
    const lines: string[] = [];
    const pm = new PassManager("test", [], 1, (l) => lines.push(l));
    pm.run("noop", () => 1, () => "did nothing");
    expect(lines[0]).to.match(/^kiln: \[test\] noop [0-9.]+ ms: did nothing$/);
    expect(() => registerPass({ name: "bad", after: "fuse" as never, run: (g) => g })).to.throw(/not a graph pass/);
  });
});

describe("compiled executor API", () => {
  it("exposes kernels, memory and debugStr; reshape shares parameters", () =>
    withNameManager(() => {
      const net = sym.FullyConnected({ data: sym.Variable("data"), num_hidden: 3, name: "fc" });
      const exe = net.simpleBind({ ctx: cpu(), shapes: { data: [2, 4] }, gradReq: "null", compile: { backend: "interpret" } }) as import("../../runtime/executor/compiled.js").CompiledExecutor;
      exe.argDict.fc_weight.set(Array.from({ length: 12 }, (_, i) => i));
      exe.argDict.data.set(1);
      expect(exe.forward()[0].toArray()).to.deep.equal([6, 22, 38, 6, 22, 38]);
      expect(exe.kernels.map((k) => k.ops)).to.deep.equal([["FullyConnected"]]);
      expect(exe.memory.argBytes).to.equal((8 + 12 + 3) * 4);
      expect(exe.debugStr()).to.match(/FullyConnected/);
      const big = exe.reshape({ data: [5, 4] });
      expect(big.argDict.fc_weight).to.equal(exe.argDict.fc_weight);
      big.argDict.data.set(1);
      expect(big.forward()[0].toArray().slice(0, 3)).to.deep.equal([6, 22, 38]);
      exe.copyParamsFrom({ fc_bias: nd.array([1, 1, 1]) });
      expect(exe.forward()[0].toArray().slice(0, 3)).to.deep.equal([7, 23, 39]);
      expect(() => exe.copyParamsFrom({ nope: nd.array([1]) })).to.throw(/not in this executor/);
    }));

  it("bind() runs on the caller's arrays; a missing gradient array means null", () =>
    withNameManager(() => {
      const net = sym.MakeLoss({ data: sym.square({ data: sym.Variable("a").mul(sym.Variable("b")) }) });
      const a = nd.array([1, 2, 3]);
      const b = nd.array([2, 2, 2]);
      const ga = nd.zeros([3]);
      const exe = net.bind({ ctx: cpu(), args: { a, b }, argsGrad: { a: ga }, compile: { backend: "interpret" } });
      expect(exe.forward(true)[0].toArray()).to.deep.equal([4, 16, 36]);
      exe.backward();
      // d/da (ab)² = 2ab·b
      expect(ga.toArray()).to.deep.equal([8, 16, 24]);
      expect(exe.gradArrays[1]).to.equal(null);
      expect(() => net.bind({ ctx: cpu(), args: { a, b: nd.array([1, 2]) } }).forward()).to.throw();
    }));
});
