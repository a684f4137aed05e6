import { expect } from "chai";
import { renderModule } from "../../compiler/codegen/index.js";
import { Contraction, findContraction } from "../../compiler/codegen/contraction.js";
import { prepare } from "../../compiler/codegen/prepare.js";
import { CPP } from "../../compiler/codegen/targets.js";
import type { Kernel } from "../../compiler/ir/kernel.js";
import { E, call, load, num, v } from "../../compiler/te/expr.js";
import { StageBody, TensorType, stageOf } from "../../compiler/te/stage.js";
import { opKernels } from "./op_kernels.js";

const T = (dtype: TensorType["dtype"], ...shape: number[]): TensorType => ({ shape, dtype });
const view = (k: Kernel): Contraction | undefined => findContraction(prepare(k, CPP, false));
const names = (ds: readonly { name: string }[]): string[] => ds.map((d) => d.name);
const lines = (src: string): string[] => src.split("\n").map((l) => l.trim());

/** A reduce kernel over the given inputs. */
function reduce(name: string, inputs: TensorType[], out: TensorType, body: StageBody): Kernel {
  return { name, stage: stageOf(inputs, out, body), accumulate: false, ops: [name] };
}

describe("codegen: contractions and the GEMM schedule", () => {
  it("sees FullyConnected as rows x hidden x features, the bias in the epilogue", () => {
    const [fc] = opKernels("FullyConnected", { num_hidden: "40" }, [[24, 3, 50], [40, 150], [40]]);
    const c = view(fc)!;
    expect([c.B, c.M, c.N, c.K]).to.deep.equal([1, 24, 40, 150]);
    expect(names(c.m)).to.deep.equal(["i0"]);
    expect(names(c.n)).to.deep.equal(["i1"]);
    expect(c.aKFast && c.bKFast).to.equal(true);
  });

  it("puts the output's unit-stride dimension on the N side (convolution: filters x positions)", () => {
    const [conv] = opKernels("Convolution", { kernel: "(3,3)", num_filter: "16", pad: "(1,1)" }, [[2, 8, 10, 10], [16, 8, 3, 3], [16]]);
    const c = view(conv)!;
    // A single group's `a / 16` channel base folds away: no batch.
    expect([c.B, c.M, c.N, c.K]).to.deep.equal([1, 16, 200, 72]);
    expect(names(c.m)).to.deep.equal(["i1"]);
    expect(names(c.n)).to.deep.equal(["i0", "i2", "i3"]);
    // The data operand keeps its padding guard (implicit GEMM).
    expect(c.b.kind).to.equal("select");
  });

  it("splits a grouped convolution's channel into group (batch) and channel within the group", () => {
    const attrs = { kernel: "(3,3)", num_filter: "32", stride: "(2,2)", pad: "(2,2)", dilate: "(2,2)", num_group: "4" };
    const [fwd] = opKernels("Convolution", { ...attrs, no_bias: "true" }, [[1, 16, 9, 9], [32, 4, 3, 3]]);
    const c = view(fwd)!;
    expect([c.B, c.M, c.N, c.K]).to.deep.equal([4, 8, 25, 36]);
    expect(c.batch.map((d) => [d.extent, d.outStride])).to.deep.equal([[4, 200]]);
    expect(c.m.map((d) => [d.extent, d.outStride])).to.deep.equal([[8, 25]]);
    // Backward: data gradient (the transposed window) and weight gradient (a window over the batch).
    const [dx, dw] = opKernels("_backward_Convolution", attrs, [[1, 32, 5, 5], [1, 16, 9, 9], [32, 4, 3, 3]]);
    expect([dx, dw].map((k) => { const x = view(k)!; return [x.B, x.M, x.N, x.K]; })).to.deep.equal([[4, 4, 81, 72], [4, 8, 36, 25]]);
  });

  it("batches batch_dot over its leading axes", () => {
    const [bd] = opKernels("batch_dot", { transpose_a: "true" }, [[3, 30, 20], [3, 30, 40]]);
    const c = view(bd)!;
    expect([c.B, c.M, c.N, c.K]).to.deep.equal([3, 20, 40, 30]);
    expect(c.aKFast).to.equal(false);
  });

  it("leaves what is not a sum of a product of two sides to the reduce family", () => {
    const ins = [T("float32", 16, 32), T("float32", 32, 24)];
    const out = T("float32", 16, 24);
    const axes = [{ name: "r0", extent: 32 }];
    const prod = E.mul(load(0, [v("i0"), v("r0")]), load(1, [v("r0"), v("i1")]));
    const cases: Kernel[] = [
      reduce("max_of_product", ins, out, { kind: "reduce", op: "max", axes, value: prod }),
      reduce("sum_of_sum", ins, out, { kind: "reduce", op: "sum", axes, value: E.add(load(0, [v("i0"), v("r0")]), load(1, [v("r0"), v("i1")])) }),
      // A guard reading both sides' variables belongs to neither operand.
      reduce("mixed_guard", ins, out, { kind: "reduce", op: "sum", axes, value: E.select(E.lt(v("i0"), v("i1")), prod, num(0)) }),
    ];
    for (const k of cases) expect(view(k), k.name).to.equal(undefined);
    // A third factor reading both sides leaves nothing but a batch: recognized, but not worth tiling.
    const third = reduce("third_factor", [...ins, T("float32", 16, 24)], out, { kind: "reduce", op: "sum", axes, value: E.mul(prod, load(2, [v("i0"), v("i1")])) });
    expect(view(third)!.B).to.equal(16 * 24);
    for (const target of ["cpp", "cuda"] as const) {
      const src = renderModule([...cases, third], target).source;
      expect(src, target).to.not.include("// GEMM B=");
    }
  });

  it("renders C++ as packed panels, a register-blocked inner loop and the fused epilogue", () => {
    const [fc] = opKernels("FullyConnected", { num_hidden: "40" }, [[24, 50], [40, 50], [40]], { relu: true });
    const src = lines(renderModule([fc], "cpp").source);
    expect(src).to.include.members([
      "// GEMM B=1 M=24 N=40 K=50 (batch -; M i0:24; N i1:40; K r0:50): 24x48x50 tiles, 6x16 register blocks",
      "float g_c[6][16] = {};",
      "for (int g_j = 0; g_j < 16; ++g_j) g_c[g_i][g_j] += g_pa[g_kk * 6 + g_i] * g_pb[g_kk * 16 + g_j];",
      "const float x = in0[g_m * 50 + g_k];",
      // 40 columns in panels of 16: the last panel's lanes past 40 are zeros.
      "const float x = g_n < 40 ? in1[g_n * 50 + g_k] : 0.0f;",
      "out[idx] = kiln_max(acc + in2[idx % 40], 0.0f);",
    ]);
    // Not worth an OpenMP fork at this size; the plain reduction is still there on request.
    expect(src).to.not.include("#pragma omp parallel");
    expect(renderModule([fc], "cpp", { gemm: false }).source).to.not.include("// GEMM");
  });

  it("renders CUDA through shared memory, TF32 mma.sync only when asked", () => {
    const [fc] = opKernels("FullyConnected", { num_hidden: "40" }, [[24, 50], [40, 50], [40]]);
    const plain = renderModule([fc], "cuda");
    const src = lines(plain.source);
    expect(src).to.include.members([
      `extern "C" __global__ void __launch_bounds__(64, 1) fullyconnected_0(const float* __restrict__ in0, const float* __restrict__ in1, const float* __restrict__ in2, float* __restrict__ out) {`,
      "__shared__ __align__(16) float g_as[2][16][32 + 8];",
      "for (int g_j = 0; g_j < 4; ++g_j) g_c[g_i][g_j] += g_fa[g_i] * g_fb[g_j];",
      "out[idx] = acc + in2[idx % 40];",
    ]);
    expect(plain.kernels[0].launch).to.deep.equal({ grid: [1, 2, 1], block: [64, 1, 1], sharedBytes: 0 });
    expect(plain.source).to.not.include("mma.sync");
    const tc = renderModule([fc], "cuda", { tf32: true }).source;
    expect(lines(tc)).to.include.members([
      "#if __CUDA_ARCH__ >= 800",
      "g_as[g_dst][g_tid % 16][g_tid / 16 + g_e * 4] = kiln_tf32(g_ra[g_e]);",
      "for (int g_j = 0; g_j < 4; ++g_j) kiln_mma_tf32(g_d[g_i][g_j], g_fa[g_i], g_fb[g_j]);",
    ]);
    // float64 has no TF32 path.
    const [f64] = opKernels("FullyConnected", { num_hidden: "40" }, [[24, 50], [40, 50], [40]], { dtype: "float64" });
    expect(renderModule([f64], "cuda", { tf32: true }).source).to.not.include("kiln_mma_tf32(g_d");
  });

  it("keeps guards lazy when a grouped convolution's operands are filled", () => {
    const [conv] = opKernels("Convolution", { kernel: "(3,3)", num_filter: "16", pad: "(1,1)", num_group: "2", no_bias: "true" }, [[1, 8, 12, 12], [16, 4, 3, 3]]);
    const src = renderModule([conv], "cpp").source;
    expect(src).to.include("// GEMM B=2 M=8 N=144 K=36");
    // The padding guard selects before loading: `cond ? in0[…] : 0.0f`, never a bare load.
    const fill = src.split("\n").find((l) => l.includes("in0["))!;
    expect(fill).to.match(/\? in0\[[^\]]+\] : 0\.0f;$/);
    expect(call("and", num(1), num(1)).kind).to.equal("call");
  });
});
