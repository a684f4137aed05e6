/**
 * The ONNX protobuf decoder on bytes written by hand here, field by field from the ONNX IR
 * spec (onnx.proto): packed and unpacked repeated fields, raw_data of float16, negative int64,
 * attributes of each kind, symbolic dims, unknown fields, and malformed input.
 */
import { expect } from "chai";
import { decodeModel, decodeTensor } from "../../compiler/onnx/proto.js";
import { tensorValues, tensorFromProto } from "../../compiler/onnx/tensor.js";
import { expectError } from "../helpers/expect_error.js";

function varint(v: number | bigint): number[] {
  let n = BigInt(v);
  if (n < 0n) n += 1n << 64n;
  const out: number[] = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
  return out;
}
const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
const vint = (field: number, v: number | bigint): number[] => [...key(field, 0), ...varint(v)];
const len = (field: number, body: number[]): number[] => [...key(field, 2), ...varint(body.length), ...body];
const str = (field: number, s: string): number[] => len(field, [...new TextEncoder().encode(s)]);
const f32le = (x: number): number[] => {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, x, true);
  return [...new Uint8Array(b.buffer)];
};
const f32 = (field: number, x: number): number[] => [...key(field, 5), ...f32le(x)];

// TensorProto W: dims unpacked (two fields), FLOAT, float_data packed.
const tensorW = [...vint(1, 2), ...vint(1, 2), ...vint(2, 1), ...len(4, [1, 2, 3, 4].flatMap(f32le)), ...str(8, "W")];
// TensorProto B: dims packed, FLOAT16 in raw_data (1.0 = 0x3C00, -2.0 = 0xC000).
const tensorB = [...len(1, varint(2)), ...vint(2, 10), ...len(9, [0x00, 0x3c, 0x00, 0xc0]), ...str(8, "B")];
// TensorProto I: INT64 with negative values, unpacked int64_data.
const tensorI = [...vint(1, 2), ...vint(2, 7), ...vint(7, -1), ...vint(7, 3), ...str(8, "I")];

const attrAlpha = [...str(1, "alpha"), ...vint(20, 1), ...f32(2, 0.5)];
const attrPerm = [...str(1, "perm"), ...vint(20, 7), ...len(8, [...varint(1), ...varint(0)])];
const attrMode = [...str(1, "mode"), ...vint(20, 3), ...len(4, [...new TextEncoder().encode("edge")])];
const attrValue = [...str(1, "value"), ...vint(20, 4), ...len(5, tensorI)];
const node = [
  ...str(1, "x"),
  ...str(1, "W"),
  ...str(2, "y"),
  ...str(3, "mm"),
  ...str(4, "MatMul"),
  ...len(5, attrAlpha),
  ...len(5, attrPerm),
  ...len(5, attrMode),
  ...len(5, attrValue),
  ...vint(99, 7), // a field this schema does not know: skipped
];
const dim = (body: number[]): number[] => len(1, body);
const valueX = [...str(1, "x"), ...len(2, len(1, [...vint(1, 1), ...len(2, [...dim(str(2, "N")), ...dim(vint(1, 2))])]))];
const valueY = [...str(1, "y"), ...len(2, len(1, vint(1, 1)))];
const graph = [...len(1, node), ...str(2, "hand"), ...len(5, tensorW), ...len(5, tensorB), ...len(11, valueX), ...len(12, valueY)];
const model = new Uint8Array([...vint(1, 7), ...str(2, "hand-written"), ...len(7, graph), ...len(8, [...str(1, ""), ...vint(2, 13)])]);

describe("onnx/proto: decoding hand-written protobuf bytes", () => {
  it("reads ModelProto, GraphProto, NodeProto and OperatorSetIdProto fields", () => {
    const m = decodeModel(model);
    expect(m.irVersion).to.equal(7);
    expect(m.producerName).to.equal("hand-written");
    expect(m.opsets.get("")).to.equal(13);
    expect(m.graph.name).to.equal("hand");
    expect(m.graph.nodes).to.have.length(1);
    const n = m.graph.nodes[0];
    expect([n.name, n.opType, n.domain]).to.deep.equal(["mm", "MatMul", ""]);
    expect(n.inputs).to.deep.equal(["x", "W"]);
    expect(n.outputs).to.deep.equal(["y"]);
  });

  it("reads attributes of each kind", () => {
    const [alpha, perm, mode, value] = decodeModel(model).graph.nodes[0].attributes;
    expect([alpha.name, alpha.type, alpha.f]).to.deep.equal(["alpha", 1, 0.5]);
    expect([perm.name, perm.type, perm.ints]).to.deep.equal(["perm", 7, [1, 0]]);
    expect([mode.name, mode.type, new TextDecoder().decode(mode.s)]).to.deep.equal(["mode", 3, "edge"]);
    expect(value.type).to.equal(4);
    expect(Array.from(tensorValues(value.t!, "value"))).to.deep.equal([-1, 3]);
  });

  it("reads initializers from packed float_data and from float16 raw_data", () => {
    const [w, b] = decodeModel(model).graph.initializers;
    expect(w.name).to.equal("W");
    expect(w.dims).to.deep.equal([2, 2]);
    expect(Array.from(tensorValues(w, "W"))).to.deep.equal([1, 2, 3, 4]);
    const bt = tensorFromProto(b, "B");
    expect(bt.dims).to.deep.equal([2]);
    expect(bt.dtype).to.equal("float16");
    expect(Array.from(bt.values)).to.deep.equal([1, -2]);
  });

  it("reads value infos with fixed and symbolic dims", () => {
    const g = decodeModel(model).graph;
    expect(g.inputs[0]).to.deep.equal({ name: "x", kind: "tensor", elemType: 1, shape: [{ dimParam: "N" }, { dimValue: 2 }] });
    expect(g.outputs[0]).to.deep.equal({ name: "y", kind: "tensor", elemType: 1, shape: undefined });
  });

  it("decodes a bare TensorProto (ONNX test data files) with negative int64", () => {
    const t = tensorFromProto(decodeTensor(new Uint8Array(tensorI)), "I");
    expect(t.dtype).to.equal("int64");
    expect(t.dims).to.deep.equal([2]);
    expect(Array.from(t.values)).to.deep.equal([-1, 3]);
  });

  it("names the problem on malformed bytes", () => {
    expectError(() => decodeModel(model.slice(0, model.length - 5)), "ONNX model", "not a valid ModelProto", `${model.length - 5} bytes`);
    expectError(() => decodeModel(new Uint8Array([0x0a, 0x05, 0x01])), "not a valid ModelProto");
    expectError(() => decodeModel(new Uint8Array(vint(1, 7))), "no graph");
    expectError(() => tensorValues({ ...decodeTensor(new Uint8Array(tensorB)), rawData: new Uint8Array(3) }, "B"), "raw_data holds 3 bytes");
  });
});
