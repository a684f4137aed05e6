/**
 * `kiln viz`: the SVG is well-formed XML with one node per layer and input, the DOT has every
 * edge of the symbol file, the HTML page is self-contained, and --fused groups by kernel.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MODELS_DIR } from "../helpers/paths.js";
import { expectStatus, kiln, tempDir } from "./cli_helper.js";
import { allElements, parseXml } from "./xml.js";

interface JsonNode {
  op: string;
  name: string;
  inputs: [number, number, number?][];
}

/** The symbol file's own view: op nodes, and data-flow edges between op nodes or from data/label. */
function readSymbolFile(file: string): { ops: JsonNode[]; edges: [string, string][]; inputs: string[] } {
  const nodes = (JSON.parse(readFileSync(file, "utf8")) as { nodes: JsonNode[] }).nodes;
  const ops = nodes.filter((n) => n.op !== "null");
  const inputs = ["data", "softmax_label"].filter((n) => nodes.some((x) => x.name === n && x.op === "null"));
  const edges: [string, string][] = [];
  for (const n of ops)
    for (const [src] of n.inputs) {
      const s = nodes[src];
      if (s.op !== "null" || inputs.includes(s.name)) edges.push([s.name, n.name]);
    }
  return { ops, edges, inputs };
}

const classes = (el: { attrs: Record<string, string> }): string[] => (el.attrs.class ?? "").split(/\s+/);

describe("kiln viz", () => {
  const resnet = join(MODELS_DIR, "resnet-18-symbol.json");
  const t = tempDir("viz");
  after(() => t.remove());

  it("SVG of ResNet-18: valid XML, a node per layer and input, an edge per data-flow edge, stage clusters", function () {
    this.timeout(20000);
    const out = join(t.dir, "r18.svg");
    expectStatus(kiln(["viz", resnet, "--shape", "data=1,3,224,224", "--out", out]), 0);
    const want = readSymbolFile(resnet);
    const root = parseXml(readFileSync(out, "utf8"));
    expect(root.name).to.equal("svg");
    const els = allElements(root);
    const groups = els.filter((e) => e.name === "g");
    const opNodes = groups.filter((g) => classes(g).includes("node") && classes(g).includes("op"));
    const inputNodes = groups.filter((g) => classes(g).includes("node") && classes(g).includes("input"));
    expect(opNodes.length).to.equal(want.ops.length);
    expect(new Set(opNodes.map((g) => g.attrs["data-name"]))).to.deep.equal(new Set(want.ops.map((n) => n.name)));
    expect(inputNodes.map((g) => g.attrs["data-name"]).sort()).to.deep.equal([...want.inputs].sort());
    const edges = groups.filter((g) => classes(g).includes("edge")).map((g) => `${g.attrs["data-from"]}->${g.attrs["data-to"]}`);
    expect(edges.sort()).to.deep.equal(want.edges.map(([a, b]) => `${a}->${b}`).sort());
    // Parameters are folded into their layer, shapes label the edges, stages and units are clusters.
    expect(groups.some((g) => g.attrs["data-name"] === "conv0_weight")).to.equal(false);
    const texts = els.filter((e) => e.name === "text").map((e) => e.text);
    expect(texts).to.include("weight 64×3×7×7");
    expect(texts).to.include("1×64×112×112");
    const clusters = groups.filter((g) => classes(g).includes("cluster")).map((g) => g.attrs.id);
    for (const c of ["stage1", "stage1_unit1", "stage4_unit2"]) expect(clusters).to.include(`cluster-${c}`);
    // Laid out top to bottom: every edge goes down the page.
    const y = new Map(opNodes.concat(inputNodes).map((g) => [g.attrs["data-name"], Number(g.children.find((c) => c.name === "rect")!.attrs.y)]));
    for (const [a, b] of want.edges) expect(y.get(a)!, `${a} above ${b}`).to.be.below(y.get(b)!);
  });

  it("DOT has every edge and node of the symbol file, nested clusters, shapes as edge labels", () => {
    const r = expectStatus(kiln(["viz", resnet, "--shape", "data=1,3,224,224", "--format", "dot"]), 0).stdout;
    const want = readSymbolFile(resnet);
    expect(r.startsWith('digraph "resnet-18" {')).to.equal(true);
    expect(r.trimEnd().endsWith("}")).to.equal(true);
    const edges = [...r.matchAll(/^\s*"([^"]+)" -> "([^"]+)"/gm)].map((m) => `${m[1]}->${m[2]}`);
    expect(edges.sort()).to.deep.equal(want.edges.map(([a, b]) => `${a}->${b}`).sort());
    for (const n of want.ops) expect(r).to.include(`"${n.name}" [label="${n.name}\\n`);
    expect(r).to.match(/subgraph "cluster_\d+_stage2" \{[\s\S]*subgraph "cluster_\d+_stage2_unit1" \{/);
    expect(r).to.include('"conv0" -> "bn0" [label="1×64×112×112"]');
    // Braces balance.
    expect((r.match(/\{/g) ?? []).length).to.equal((r.match(/\}/g) ?? []).length);
  });

  it("HTML is one self-contained page with the SVG, pan/zoom and per-node details", () => {
    const out = join(t.dir, "mnist.html");
    expectStatus(kiln(["viz", join(MODELS_DIR, "mnist-symbol.json"), "--shape", "data=1,1,28,28", "--out", out]), 0);
    const html = readFileSync(out, "utf8");
    expect(html).to.match(/^<!DOCTYPE html>/);
    expect(html).to.include("<svg xmlns=\"http://www.w3.org/2000/svg\"");
    expect(html).not.to.match(/<script[^>]+src=|<link[^>]+href=|@import|url\(http/);
    const details = JSON.parse(/const DETAILS = (.*);<\/script>/.exec(html)![1]) as Record<string, Record<string, string>>;
    expect(details.hybridsequential9_conv0_fwd).to.include({ op: "Convolution", "param count": "260" });
    expect(html).to.include('addEventListener("wheel"');
    // The embedded SVG is itself well-formed.
    parseXml(/<svg[\s\S]*<\/svg>/.exec(html)![0]);
  });

  it("--fused groups layers by the kernel that computes them: a convolution takes its BatchNorm and ReLU", () => {
    const r = expectStatus(kiln(["viz", resnet, "--shape", "data=1,3,224,224", "--fused", "--format", "dot"]), 0).stdout;
    const blocks = r.split(/\n(?=  subgraph )/).slice(1);
    expect(blocks.length).to.be.greaterThan(10);
    const blockOf = (n: string): number => blocks.findIndex((b) => b.includes(`\n    "${n}" [`));
    expect(blockOf("stage1_unit1_conv1")).to.be.at.least(0);
    expect(blockOf("stage1_unit1_bn2")).to.equal(blockOf("stage1_unit1_conv1"));
    expect(blockOf("stage1_unit1_relu2")).to.equal(blockOf("stage1_unit1_conv1"));
    expect(blocks[blockOf("stage1_unit1_conv1")]).to.match(/label="kernel \d+: Convolution \+ BatchNorm \+ Activation"/);
    // A node belongs to one kernel group at most.
    for (const n of ["conv0", "bn0", "relu0", "pooling0", "fc1"]) expect(blocks.filter((b) => b.includes(`\n    "${n}" [`)).length, n).to.be.at.most(1);
  });

  it("--fused without shapes is a usage error", () => {
    const r = kiln(["viz", resnet, "--fused"]);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.include("--shape");
  });
});
