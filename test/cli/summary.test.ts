/**
 * `kiln summary`: parameter counts against hand counts from the architectures, and against
 * the sum of the argument shapes inference gives (every argument but data and label, once).
 */
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sym } from "../../index.js";
import { MODELS_DIR } from "../helpers/paths.js";
import { expectStatus, kiln, tempDir } from "./cli_helper.js";

interface SummaryJSON {
  layers: { name: string; op: string; paramCount: number; auxCount: number; outputShapes: (number[] | null)[]; inputs: string[]; params: { name: string; sharedWith?: string }[] }[];
  trainableParams: number;
  auxParams: number;
  totalParams: number;
  shared: string[];
}

const size = (s: readonly number[]): number => s.reduce((a, d) => a * d, 1);
const summary = (args: string[]): SummaryJSON => JSON.parse(expectStatus(kiln(["summary", ...args, "--json"]), 0).stdout) as SummaryJSON;

describe("kiln summary", () => {
  it("ResNet-18: 11,691,950 trainable parameters and 7,942 aux values, as counted by hand and from inferShape", function () {
    this.timeout(20000);
    const file = join(MODELS_DIR, "resnet-18-symbol.json");
    const s = summary([file, "--shape", "data=1,3,224,224"]);
    // By hand (MXNet's pre-activation ResNet-18, convolutions without bias, BatchNorm gamma+beta = 2C):
    //   bn_data 6, conv0 64·3·7·7 = 9,408, bn0 128,
    //   stage1: 2·(128 + 36,864 + 128 + 36,864) + shortcut 64·64 = 152,064
    //   stage2: (128 + 73,728 + 256 + 147,456 + 8,192) + (256 + 147,456 + 256 + 147,456) = 525,184
    //   stage3: (256 + 294,912 + 512 + 589,824 + 32,768) + (512 + 589,824 + 512 + 589,824) = 2,098,944
    //   stage4: (512 + 1,179,648 + 1,024 + 2,359,296 + 131,072) + (1,024 + 2,359,296 + 1,024 + 2,359,296) = 8,392,192
    //   bn1 1,024, fc1 512·1000 + 1000 = 513,000
    const hand = 6 + 9408 + 128 + 152064 + 525184 + 2098944 + 8392192 + 1024 + 513000;
    expect(hand).to.equal(11691950);
    expect(s.trainableParams).to.equal(hand);
    // Aux: every BatchNorm's moving mean and var, the same 2C as its gamma and beta.
    const net = sym.load(file);
    const [argShapes, , auxShapes] = net.inferShape({ data: [1, 3, 224, 224] });
    const args = net.listArguments();
    const fromInference = args.reduce((a, n, i) => (n === "data" || n === "softmax_label" ? a : a + size(argShapes[i])), 0);
    expect(s.trainableParams).to.equal(fromInference);
    expect(s.auxParams).to.equal(auxShapes.reduce((a, sh) => a + size(sh), 0));
    expect(s.auxParams).to.equal(7942);
    expect(s.totalParams).to.equal(hand + 7942);
    const conv0 = s.layers.find((l) => l.name === "conv0")!;
    expect(conv0).to.include({ op: "Convolution", paramCount: 9408, auxCount: 0 });
    expect(conv0.outputShapes).to.deep.equal([[1, 64, 112, 112]]);
    expect(s.layers.find((l) => l.name === "_plus0")!.inputs).to.deep.equal(["stage1_unit1_conv2", "stage1_unit1_sc"]);
    expect(s.layers.find((l) => l.name === "bn0")).to.include({ paramCount: 128, auxCount: 128 });
    // Every non-variable node is a layer.
    const ops = (JSON.parse(net.toJSON()) as { nodes: { op: string }[] }).nodes.filter((n) => n.op !== "null").length;
    expect(s.layers.length).to.equal(ops);
  });

  it("prints the table and totals (MNIST CNN: 14,765 parameters by hand)", () => {
    const out = expectStatus(kiln(["summary", join(MODELS_DIR, "mnist-symbol.json"), "--shape", "data=1,1,28,28"]), 0).stdout;
    // conv 5×5×10: 1·10·25 + 10 = 260; conv 5×5×25: 10·25·25 + 25 = 6,275;
    // 28 → 24 → 12 → 8 → 4, so FC20 reads 25·4·4 = 400: 8,020; FC10: 210.
    expect(out).to.include(`Trainable params: ${(260 + 6275 + 8020 + 210).toLocaleString("en-US")}`);
    expect(out).to.match(/hybridsequential9_conv1_fwd\s+Convolution\s+5×5, 25 filters\s+\(1, 25, 8, 8\)\s+6,275/);
    expect(out).to.match(/Aux states: 0/);
  });

  it("LeNet: 3,682 parameters by hand", () => {
    // conv 5×5×5: 25·5 + 5 = 130; conv 5×5×5 over 5 channels: 625 + 5 = 630; 28→24→12→8→4: FC32 reads 80: 2,592; FC10: 330.
    expect(summary([join(MODELS_DIR, "lenet-symbol.json"), "--shape", "data=1,1,28,28"]).trainableParams).to.equal(130 + 630 + 2592 + 330);
  });

  it("counts a weight shared by two layers once, and says which layer shares it", () => {
    const t = tempDir("shared");
    try {
      const w = sym.Variable("shared_weight");
      const x = sym.Variable("data");
      const a = sym.FullyConnected({ data: x, weight: w, num_hidden: 8, no_bias: true, name: "fc_a" });
      const b = sym.FullyConnected({ data: a, weight: w, num_hidden: 8, no_bias: true, name: "fc_b" });
      const c = sym.FullyConnected({ data: b, num_hidden: 3, name: "fc_c" });
      const file = join(t.dir, "shared-symbol.json");
      writeFileSync(file, c.toJSON());
      const s = summary([file, "--shape", "data=2,8"]);
      expect(s.trainableParams).to.equal(8 * 8 + (3 * 8 + 3));
      expect(s.shared).to.deep.equal(["shared_weight"]);
      expect(s.layers.find((l) => l.name === "fc_a")!.paramCount).to.equal(64);
      expect(s.layers.find((l) => l.name === "fc_b")!.paramCount).to.equal(0);
      expect(s.layers.find((l) => l.name === "fc_b")!.params[0]).to.include({ name: "shared_weight", sharedWith: "fc_a" });
    } finally {
      t.remove();
    }
  });
});
