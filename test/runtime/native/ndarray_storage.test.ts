import { expect } from "chai";
import { DTYPES, DType, DTYPE_BYTES } from "../../../compiler/base/dtype.js";
import { NDArray } from "../../../runtime/ndarray.js";
import { Context, cpu, reference } from "../../../runtime/context.js";

/** Values every dtype holds exactly (float16 included). */
function sample(dtype: DType, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = (i % 7) - 3;
    out.push(dtype === "uint8" ? i % 200 : dtype.startsWith("float") ? v * 0.5 : v * 11);
  }
  return out;
}

describe("NDArray storage on host contexts", () => {
  for (const ctx of [cpu(), reference()] as Context[]) {
    for (const dtype of DTYPES) {
      it(`${dtype} on ${ctx}: set/toArray, toBytes/setBytes, copyTo round trips`, () => {
        const vals = sample(dtype, 13);
        const a = new NDArray([13], dtype, ctx).set(vals);
        expect(a.toArray()).to.deep.equal(vals);
        expect(Array.from(a.toFloat64())).to.deep.equal(vals);
        const bytes = a.toBytes();
        expect(bytes.byteLength).to.equal(13 * DTYPE_BYTES[dtype]);
        const b = new NDArray([13], dtype, ctx).setBytes(bytes);
        expect(b.toArray()).to.deep.equal(vals);
        for (const other of [cpu(), reference()]) {
          const c = a.copyTo(other);
          expect(c.ctx.equals(other)).to.equal(true);
          expect(c.dtype).to.equal(dtype);
          expect(c.toArray()).to.deep.equal(vals);
          expect(Array.from(c.toBytes())).to.deep.equal(Array.from(bytes));
        }
      });
    }
  }

  it("float16 is storage: values round to half precision on the host", () => {
    const a = new NDArray([3], "float16").set([1 / 3, 65504, 1e-8]);
    const back = a.toArray();
    expect(back[0]).to.equal(0.333251953125);
    expect(back[1]).to.equal(65504);
    expect(back[2]).to.equal(0);
    expect(new Uint16Array(a.toBytes().buffer)[1]).to.equal(0x7bff);
  });

  it("int64 keeps values beyond 2^53 through toBytes/setBytes", () => {
    const bytes = new Uint8Array(new BigInt64Array([2n ** 62n + 1n, -5n]).buffer);
    const a = new NDArray([2], "int64").setBytes(bytes);
    expect(new BigInt64Array(a.toBytes().buffer)[0]).to.equal(2n ** 62n + 1n);
    expect(a.toArray()[1]).to.equal(-5);
  });

  it("copyTo into an array of another dtype converts values", () => {
    const a = new NDArray([3], "float32").set([1.5, -2.7, 300]);
    const b = a.copyTo(new NDArray([3], "int32"));
    expect(b.toArray()).to.deep.equal([1, -2, 300]);
    const c = a.copyTo(new NDArray([3], "float16", reference()));
    expect(c.toArray()[1]).to.be.closeTo(-2.7, 1e-6);
  });

  it("hostData exposes the dtype's own storage for CPU kernels", () => {
    expect(new NDArray([2], "float16").hostData()).to.be.instanceOf(Uint16Array);
    expect(new NDArray([2], "int64").hostData()).to.be.instanceOf(BigInt64Array);
    expect(new NDArray([2], "float64", reference()).hostData()).to.be.instanceOf(Float64Array);
    expect(() => new NDArray([2], "float32", reference()).hostData()).to.throw(/reference arrays hold float64/);
    expect(() => new NDArray([2]).devicePointer()).to.throw(/host memory/);
  });

  it("keeps its existing contract: shape checks, asScalar, toString, empty arrays", () => {
    expect(() => new NDArray([2, -1])).to.throw(/non-negative integers/);
    expect(() => new NDArray([2]).set([1])).to.throw(/needs 2 values, got 1/);
    expect(() => new NDArray([2]).copyTo(new NDArray([3]))).to.throw(/does not match/);
    expect(() => new NDArray([2]).setBytes(new Uint8Array(3))).to.throw(/needs 8 bytes, got 3/);
    expect(new NDArray([1, 1], "int8").set(-3).asScalar()).to.equal(-3);
    const e = new NDArray([0, 4]);
    expect(e.size).to.equal(0);
    expect(e.toArray()).to.deep.equal([]);
    expect(String(new NDArray([2, 3], "float16"))).to.equal("NDArray(2,3) float16 @cpu(0)");
  });
});
