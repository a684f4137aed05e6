/**
 * Every MXNet model file in ../shared/data/mxnet-models loads, infers shapes for its usual
 * input size, and round-trips (load → save → load keeps arguments, aux states, outputs, shapes).
 */
import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { sym } from "../index.js";
import { MODELS_DIR } from "./helpers/paths.js";


interface Case {
  inputs: Record<string, number[]>;
  outputs: number[][];
}

function lstmInputs(): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (let t = 0; t < 129; t++) shapes[`data/${t}`] = [32];
  for (let l = 0; l < 3; l++) for (const s of ["h", "c"]) shapes[`l${l}_init_${s}`] = [32, 512];
  return shapes;
}

const image = (n: number, c: number, h: number, w = h): Record<string, number[]> => ({ data: [n, c, h, w] });

const CASES: Record<string, Case> = {
  "2-layer-mlp-symbol.json": { inputs: image(1, 3, 224), outputs: [[1, 2]] },
  "mnist-symbol.json": { inputs: image(1, 1, 28), outputs: [[1, 10]] },
  "fashion-mnist-symbol.json": { inputs: image(1, 1, 28), outputs: [[1, 10]] },
  "lenet-symbol.json": { inputs: image(1, 1, 28), outputs: [[1, 10]] },
  "legacy-mlp-v0.8-symbol.json": { inputs: { data: [8, 784] }, outputs: [[8, 10]] },
  "squeezenet-v1.1-symbol.json": { inputs: image(1, 3, 224), outputs: [[1, 1000]] },
  "resnet-18-symbol.json": { inputs: image(2, 3, 224), outputs: [[2, 1000]] },
  "resnet-50-symbol.json": { inputs: image(1, 3, 224), outputs: [[1, 63]] },
  "resnet-152-symbol.json": { inputs: image(1, 3, 224), outputs: [[1, 1000]] },
  "inception-bn-100-symbol.json": { inputs: image(1, 3, 224), outputs: [[1, 10]] },
  "mobilenet_v2-symbol.json": { inputs: image(1, 3, 224), outputs: [[1, 1000]] },
  "vgg16-reduced-symbol.json": { inputs: image(32, 3, 300), outputs: [[32, 1000]] },
  "char-lstm-obama-symbol.json": { inputs: lstmInputs(), outputs: Array.from({ length: 129 }, () => [32, 84]) },
};

describe("shared MXNet model files", () => {
  it("the table covers every symbol file", () => {
    const files = readdirSync(MODELS_DIR).filter((f) => f.endsWith("-symbol.json"));
    expect(files.sort()).to.deep.equal(Object.keys(CASES).sort());
  });

  for (const [file, c] of Object.entries(CASES)) {
    it(`${file}: loads, infers shapes, round-trips`, () => {
      const text = readFileSync(join(MODELS_DIR, file), "utf8");
      const net = sym.fromJSON(text);
      const [args, outs, aux] = net.inferShape(c.inputs);
      expect(outs).to.deep.equal(c.outputs);
      expect(args.every((s) => s.length > 0 && s.every((d) => d > 0))).to.equal(true);
      const again = sym.fromJSON(net.toJSON());
      expect(again.listArguments()).to.deep.equal(net.listArguments());
      expect(again.listAuxiliaryStates()).to.deep.equal(net.listAuxiliaryStates());
      expect(again.listOutputs()).to.deep.equal(net.listOutputs());
      expect(again.inferShape(c.inputs)).to.deep.equal([args, outs, aux]);
      expect(again.toJSON()).to.equal(net.toJSON());
    });
  }

  it("writes 1.x files back node for node (op, name, attrs, inputs)", () => {
    for (const file of ["lenet-symbol.json", "resnet-18-symbol.json", "mobilenet_v2-symbol.json", "mnist-symbol.json"]) {
      const original = JSON.parse(readFileSync(join(MODELS_DIR, file), "utf8"));
      const ours = JSON.parse(sym.fromJSON(JSON.stringify(original)).toJSON());
      // Files of MXNet 1.0-1.2 name the attribute dict "attr"; 1.3+ (and Kiln) write "attrs".
      type JsonNode = { op: string; name: string; attr?: object; attrs?: object; inputs: unknown[] };
      const modern = original.nodes.map(({ op, name, attr, attrs, inputs }: JsonNode) => ({ op, name, ...((attrs ?? attr) ? { attrs: attrs ?? attr } : {}), inputs }));
      expect(ours.nodes.map((n: object) => JSON.stringify(n)), file).to.deep.equal(modern.map((n: object) => JSON.stringify(n)));
      expect(ours.arg_nodes, file).to.deep.equal(original.arg_nodes);
      expect(ours.heads, file).to.deep.equal(original.heads);
    }
  });

  it("node_row_ptr counts hidden outputs as a non-MKLDNN MXNet build does", () => {
    // MKLDNN builds give max Pooling a hidden workspace output (lenet's file was written by one);
    // standard builds, and Kiln, give it one output.
    const original = JSON.parse(readFileSync(join(MODELS_DIR, "resnet-18-symbol.json"), "utf8"));
    expect(JSON.parse(sym.fromJSON(JSON.stringify(original)).toJSON()).node_row_ptr).to.deep.equal(original.node_row_ptr);
    const lenet = JSON.parse(readFileSync(join(MODELS_DIR, "lenet-symbol.json"), "utf8"));
    const ours = JSON.parse(sym.fromJSON(JSON.stringify(lenet)).toJSON()).node_row_ptr as number[];
    expect(ours[ours.length - 1]).to.equal(lenet.node_row_ptr[lenet.node_row_ptr.length - 1] - 2);
  });

  it("resnet-18 lists BatchNorm moving stats as aux states and infers their shapes", () => {
    const net = sym.load(join(MODELS_DIR, "resnet-18-symbol.json"));
    const aux = net.listAuxiliaryStates();
    expect(aux.length).to.equal(2 * 19);
    expect(aux[0]).to.equal("bn_data_moving_mean");
    const [, , auxShapes] = net.inferShape({ data: [1, 3, 224, 224] });
    expect(auxShapes[0]).to.deep.equal([3]);
  });
});
