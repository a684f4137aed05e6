/** The layered layout of `kiln viz` on small graphs, in process: ranks, spacing, straight chains, crossings. */
import { expect } from "chai";
import { layeredLayout } from "../../cli/viz/layout.js";
import { isotonic } from "../../cli/viz/layout_steps.js";

const box = (id: string, clusters: string[] = [], width = 80): { id: string; width: number; height: number; clusters: string[] } => ({ id, width, height: 30, clusters });

describe("kiln viz layout", () => {
  it("isotonic regression gives the closest nondecreasing sequence (pool adjacent violators)", () => {
    expect(isotonic([1, 3, 2, 4], [1, 1, 1, 1])).to.deep.equal([1, 2.5, 2.5, 4]);
    expect(isotonic([5, 1], [3, 1])).to.deep.equal([4, 4]);
    expect(isotonic([0, 1, 2], [1, 1, 1])).to.deep.equal([0, 1, 2]);
  });

  it("puts every edge downwards, keeps a rank's nodes apart, and lines a chain up straight", () => {
    // a → b → c → d, with a side branch a → s → d (a residual-style diamond).
    const nodes = ["a", "b", "c", "d", "s"].map((n) => box(n));
    const edges = [["a", "b"], ["b", "c"], ["c", "d"], ["a", "s"], ["s", "d"]].map(([from, to]) => ({ from, to, port: 0 }));
    const l = layeredLayout(nodes, edges);
    const p = (id: string) => l.nodes.get(id)!;
    for (const e of edges) expect(p(e.from).y, `${e.from} above ${e.to}`).to.be.below(p(e.to).y);
    expect([p("a").rank, p("b").rank, p("c").rank, p("d").rank]).to.deep.equal([0, 1, 2, 3]);
    // s has a predecessor, so it sits right under a (only sources are pulled down).
    expect(p("s").rank).to.equal(1);
    expect(Math.abs(p("b").x - p("s").x)).to.be.at.least(80);
    expect(p("c").x).to.be.closeTo(p("b").x, 1e-6);
    expect(l.crossings).to.equal(0);
    // The long edge s → d passes through one dummy point: 3 points.
    expect(l.edges.find((e) => e.from === "s")!.points.length).to.equal(3);
    for (const n of l.nodes.values()) {
      expect(n.x - n.width / 2).to.be.at.least(0);
      expect(n.x + n.width / 2).to.be.at.most(l.width);
    }
  });

  it("pulls a source down next to its only reader (a label next to its loss)", () => {
    const nodes = ["data", "fc1", "fc2", "loss", "label"].map((n) => box(n));
    const edges = [["data", "fc1"], ["fc1", "fc2"], ["fc2", "loss"], ["label", "loss"]].map(([from, to]) => ({ from, to, port: 0 }));
    const l = layeredLayout(nodes, edges);
    expect(l.nodes.get("label")!.rank).to.equal(l.nodes.get("loss")!.rank - 1);
  });

  it("removes crossings a naive order would have, and frames clusters around their members", () => {
    // Two parallel chains whose inputs are listed crosswise.
    const nodes = [box("x"), box("y"), box("x1", ["A"]), box("y1", ["B"]), box("x2", ["A"]), box("y2", ["B"])];
    const edges = [["x", "y1"], ["y", "x1"], ["x1", "x2"], ["y1", "y2"]].map(([from, to]) => ({ from, to, port: 0 }));
    const l = layeredLayout(nodes, edges);
    expect(l.crossings).to.equal(0);
    for (const c of l.clusters) {
      const members = c.id === "A" ? ["x1", "x2"] : ["y1", "y2"];
      for (const m of members) {
        const n = l.nodes.get(m)!;
        expect(n.x - n.width / 2).to.be.at.least(c.x);
        expect(n.x + n.width / 2).to.be.at.most(c.x + c.width);
        expect(n.y - n.height / 2).to.be.at.least(c.y);
        expect(n.y + n.height / 2).to.be.at.most(c.y + c.height);
      }
    }
    const [a, b] = l.clusters;
    expect(a.x + a.width <= b.x || b.x + b.width <= a.x, "frames side by side, not overlapping").to.equal(true);
  });
});
