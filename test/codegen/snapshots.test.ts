import { expect } from "chai";
import { renderModule } from "../../compiler/codegen/index.js";
import type { Kernel } from "../../compiler/ir/kernel.js";
import { E, Expr, call, cast, int, load, num, v } from "../../compiler/te/expr.js";
import { TensorType, indexVars, stageOf } from "../../compiler/te/stage.js";
import { KilnError } from "../../compiler/base/errors.js";

const T = (dtype: TensorType["dtype"], ...shape: number[]): TensorType => ({ shape, dtype });

/** relu(x + bias) with the bias broadcast along rows: the fused kernel of a dense layer's epilogue. */
const biasRelu: Kernel = {
  name: "fused_add_relu",
  stage: stageOf([T("float32", 4, 8), T("float32", 8)], T("float32", 4, 8), {
    kind: "map",
    value: E.max(E.add(load(0, indexVars(2)), load(1, [v("i1")])), 0),
  }),
  accumulate: false,
  ops: ["broadcast_add", "relu"],
};

/** Row sums of exp(x): a softmax denominator. */
const rowSumExp: Kernel = {
  name: "sum_exp",
  stage: stageOf([T("float32", 64, 1000)], T("float32", 64), {
    kind: "reduce",
    op: "sum",
    axes: [{ name: "r0", extent: 1000 }],
    value: call("exp", load(0, [v("i0"), v("r0")])),
  }),
  accumulate: false,
  ops: ["exp", "sum"],
};

const lines = (src: string): string[] => src.split("\n").map((l) => l.trim());

describe("codegen: source snapshots (key lines)", () => {
  it("a broadcast map as C++", () => {
    const m = renderModule([biasRelu], "cpp");
    const src = lines(m.source);
    expect(src).to.include.members([
      `extern "C" void fused_add_relu(void* const* args) {`,
      `const float* __restrict__ in0 = (const float*)args[0];`,
      `const float* __restrict__ in1 = (const float*)args[1];`,
      `float* __restrict__ out = (float*)args[2];`,
      `for (int idx = 0; idx < 32; ++idx) {`,
      // The identity load collapses to idx, the broadcast one to the column digit.
      `out[idx] = kiln_max(in0[idx] + in1[idx % 8], 0.0f);`,
    ]);
    // 32 elements: not worth an OpenMP fork.
    expect(m.source).to.not.include("omp parallel");
    expect(m.kernels).to.deep.equal([{ name: "fused_add_relu", params: ["ptr", "ptr", "ptr"], zeroOutput: false, launch: undefined }]);
  });

  it("the same map as CUDA", () => {
    const m = renderModule([biasRelu], "cuda");
    const src = lines(m.source);
    expect(src).to.include.members([
      `extern "C" __global__ void __launch_bounds__(256) fused_add_relu(const float* __restrict__ in0, const float* __restrict__ in1, float* __restrict__ out) {`,
      `for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < 32; idx += blockDim.x * gridDim.x) {`,
      `out[idx] = kiln_max(in0[idx] + in1[idx % 8], 0.0f);`,
    ]);
    expect(m.source).to.not.include("cuda_fp16.h");
    // A broadcast load is not elementwise: no vector path.
    expect(m.source).to.not.include("float4");
    expect(m.kernels[0].launch).to.deep.equal({ grid: [1, 1, 1], block: [256, 1, 1], sharedBytes: 0 });
  });

  it("a row reduction as C++: parallel rows, a SIMD inner loop", () => {
    const src = lines(renderModule([rowSumExp], "cpp").source);
    expect(src).to.include.members([
      `extern "C" void sum_exp(void* const* args) {`,
      `#pragma omp parallel for schedule(static)`,
      `float acc = 0.0f;`,
      `#pragma omp simd reduction(+:acc)`,
      `for (int k = 0; k < 1000; ++k) {`,
      `const float x = expf(in0[idx * 1000 + k]);`,
      `acc += x;`,
      `out[idx] = acc;`,
    ]);
  });

  it("the same reduction as CUDA: a block per row, warp shuffles and shared memory", () => {
    const m = renderModule([rowSumExp], "cuda", { fastMath: true });
    const src = lines(m.source);
    expect(src).to.include.members([
      `__shared__ float red_acc[8];`,
      `for (int idx = blockIdx.x; idx < 64; idx += gridDim.x) {`,
      `for (int k = threadIdx.x; k < 1000; k += 256) {`,
      `const float x = __expf(in0[idx * 1000 + k]);`,
      `const float o_acc = __shfl_down_sync(0xffffffffu, acc, s);`,
      `__syncthreads();`,
      `out[idx] = acc;`,
    ]);
    expect(m.kernels[0].launch).to.deep.equal({ grid: [64, 1, 1], block: [256, 1, 1], sharedBytes: 0 });
  });

  it("uses 64-bit indices only past 2^31 elements", () => {
    const huge: Kernel = {
      name: "fill_rows",
      stage: stageOf([T("float32", 3)], T("float32", 3, 2 ** 30), { kind: "map", value: load(0, [v("i0")]) }),
      accumulate: false,
      ops: ["broadcast_to"],
    };
    const cpp = lines(renderModule([huge], "cpp").source);
    expect(cpp).to.include.members([`for (long long idx = 0; idx < 3221225472LL; ++idx) {`, `out[idx] = in0[idx / 1073741824];`]);
    expect(lines(renderModule([biasRelu], "cpp").source)).to.include(`for (int idx = 0; idx < 32; ++idx) {`);
  });
});

/** The stored expression of a one-kernel map module over float32 (or the given) inputs. */
function rendered(value: Expr, opts: { inputs?: TensorType[]; out?: TensorType; target?: "cpp" | "cuda" } = {}): string {
  const inputs = opts.inputs ?? [T("float32", 6), T("float32", 6), T("float32", 6)];
  const k: Kernel = { name: "k", stage: stageOf(inputs, opts.out ?? T("float32", 6), { kind: "map", value }), accumulate: false, ops: [] };
  const src = renderModule([k], opts.target ?? "cpp").source;
  const line = src.split("\n").find((l) => l.trim().startsWith("out[idx]"));
  if (!line) throw new Error(`no store in:\n${src}`);
  return line.trim().replace(/^out\[idx\] = /, "").replace(/;$/, "");
}

describe("codegen: expressions", () => {
  const [a, b, c] = [0, 1, 2].map((t) => load(t, [v("i0")]));

  it("keeps only the parentheses C needs, and those that fix float evaluation order", () => {
    expect(rendered(E.sub(a, E.sub(b, c)))).to.equal("in0[idx] - (in1[idx] - in2[idx])");
    expect(rendered(E.sub(E.sub(a, b), c))).to.equal("in0[idx] - in1[idx] - in2[idx]");
    expect(rendered(E.mul(E.add(a, b), c))).to.equal("(in0[idx] + in1[idx]) * in2[idx]");
    expect(rendered(E.add(E.mul(a, b), c))).to.equal("in0[idx] * in1[idx] + in2[idx]");
    expect(rendered(E.add(a, E.add(b, c)))).to.equal("in0[idx] + (in1[idx] + in2[idx])");
    expect(rendered(E.neg(E.neg(a)))).to.equal("-(-in0[idx])");
    expect(rendered(E.mul(a, num(-2)))).to.equal("in0[idx] * -2.0f");
    expect(rendered(E.select(E.gt(a, 0), E.select(E.lt(b, 1), c, 2), 3))).to.equal("in0[idx] > 0.0f ? (in1[idx] < 1.0f ? in2[idx] : 2.0f) : 3.0f");
  });

  it("types literals and conversions by their operands", () => {
    const d = [T("float64", 6), T("float64", 6), T("float64", 6)];
    expect(rendered(E.mul(a, 0.5), { inputs: d, out: T("float64", 6) })).to.equal("in0[idx] * 0.5");
    expect(rendered(E.mul(a, 0.5))).to.equal("in0[idx] * 0.5f");
    const i = [T("int32", 6), T("int32", 6), T("int32", 6)];
    // The interpreter's 7 / 2 is 3.5: integer division promotes.
    expect(rendered(E.div(a, b), { inputs: i })).to.equal("(float)in0[idx] / in1[idx]");
    expect(rendered(call("isnan", a), { inputs: i })).to.equal("0");
    expect(rendered(cast("int32", E.mul(a, 2.5)))).to.equal("(int)(long long)(in0[idx] * 2.5f)");
    expect(rendered(a, { out: T("uint8", 6) })).to.equal("(long long)in0[idx]");
    expect(rendered(call("exp", a), { target: "cuda" })).to.equal("expf(in0[idx])");
    expect(rendered(E.max(a, int(0)))).to.equal("kiln_max(in0[idx], 0.0f)");
  });

  it("binds a subexpression used twice once, but never hoists a load out of a select branch", () => {
    const s = E.add(a, b);
    expect(rendered(E.mul(s, s))).to.equal("t0 * t0");
    expect(rendered(E.select(E.gt(c, 0), E.mul(a, a), num(0)))).to.equal("in2[idx] > 0.0f ? in0[idx] * in0[idx] : 0.0f");
  });

  it("rejects duplicate and malformed kernel names, naming the kernel", () => {
    expect(() => renderModule([biasRelu, biasRelu], "cpp")).to.throw(KilnError, /two kernels named fused_add_relu/);
    expect(() => renderModule([{ ...biasRelu, name: "bad-name" }], "cpp")).to.throw(KilnError, /kernel bad-name.*not a C identifier/);
  });
});
