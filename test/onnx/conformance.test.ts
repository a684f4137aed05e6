/**
 * ONNX backend node-test conformance (../shared/data/onnx-node-tests, 1,802 one-node models):
 * every test whose ops Kiln maps must pass, or be listed in KNOWN_DIFFERENCES with its reason.
 *
 * The sweep runs on cpu() with the "interpret" compile backend: the full compiled pipeline
 * (decompose, fuse, lower to kernel stages, memory plan) executed by the tensor-expression
 * interpreter, so that it takes seconds on a cold machine instead of one C++ compile per model.
 * KILN_SLOW_TESTS=1 also runs every passing test as generated C++ (fast once the kernel cache
 * is warm; minutes when cold).
 */
import { expect } from "chai";
import { join } from "node:path";
import { listCases, runCase, CaseResult } from "./runner.js";
import { KNOWN_DIFFERENCES } from "../../compiler/onnx/known_differences.js";
import { SHARED_DATA } from "../helpers/paths.js";

const ROOT = join(SHARED_DATA, "onnx-node-tests");
const SLOW = process.env.KILN_SLOW_TESTS === "1";

/** One or more tests per mapped op family that must stay green (a regression to "unsupported" would hide otherwise). */
const CORE = [
  "test_gemm_default_matrix_bias", "test_gemm_alpha", "test_matmul_4d", "test_matmul_2d",
  "test_conv_with_strides_and_asymmetric_padding", "test_conv_with_autopad_same", "test_convtranspose_pads", "test_convtranspose_1d",
  "test_maxpool_2d_ceil", "test_maxpool_2d_pads", "test_averagepool_2d_pads", "test_averagepool_2d_same_upper", "test_globalaveragepool",
  "test_batchnorm_epsilon", "test_instancenorm_example", "test_layer_normalization_4d_axis1",
  "test_relu", "test_sigmoid", "test_tanh", "test_leakyrelu", "test_elu", "test_selu", "test_prelu_broadcast", "test_hardswish",
  "test_softmax_axis_0", "test_logsoftmax_axis_1", "test_softmax_example",
  "test_add_bcast", "test_sub_bcast", "test_mul_bcast", "test_div_bcast", "test_pow_bcast_array",
  "test_reshape_negative_extended_dims", "test_flatten_axis2", "test_transpose_all_permutations_3", "test_concat_3d_axis_negative_1",
  "test_split_variable_parts_2d_opset18", "test_squeeze", "test_unsqueeze_two_axes", "test_slice_neg_steps", "test_gather_1",
  "test_cast_FLOAT_to_DOUBLE", "test_reduce_sum_keepdims_random", "test_reduce_mean_default_axes_keepdims_random",
  "test_reduce_max_do_not_keepdims_random", "test_argmax_keepdims_random", "test_clip_default_inbounds", "test_dropout_default",
  "test_identity", "test_constant", "test_shape", "test_expand_dim_changed", "test_constant_pad", "test_reflect_pad", "test_edge_pad", "test_where_example",
  "test_lstm_with_peepholes", "test_gru_with_initial_bias", "test_simple_rnn_defaults",
  "test_resize_upsample_scales_linear", "test_resize_downsample_scales_cubic", "test_resize_tf_crop_and_resize", "test_upsample_nearest",
  "test_nllloss_NCd1d2_with_weight_reduction_mean", "test_sce_mean_weight_ii", "test_gather_elements_negative_indices", "test_gathernd_example_float32",
  "test_onehot_with_axis", "test_triu", "test_cumsum_2d_axis_0", "test_attention_4d_expanded",
  "test_einsum_batch_matmul", "test_compress_0", "test_center_crop_pad_crop_and_pad", "test_depthtospace_crd_mode_example", "test_lrn",
];

describe("onnx/conformance: ONNX backend node tests", function () {
  this.timeout(600_000);
  let results: CaseResult[] = [];

  before(function () {
    results = listCases(ROOT).map((c) => runCase(ROOT, c, "interpret"));
  });

  it("runs every test folder", () => {
    expect(results.length).to.equal(1802);
  });

  it("every test whose ops Kiln maps passes, or is a listed known difference", () => {
    const unexpected = results.filter((r) => r.status === "failed" && !r.known).map((r) => `${r.name}: ${r.reason}`);
    expect(unexpected, unexpected.join("\n")).to.deep.equal([]);
  });

  it("lists only tests that still fail as known differences", () => {
    const byName = new Map(results.map((r) => [r.name, r]));
    const stale = Object.keys(KNOWN_DIFFERENCES).filter((n) => byName.get(n)?.status !== "failed");
    expect(stale, "these pass now (or do not exist): remove them from compiler/onnx/known_differences.ts").to.deep.equal([]);
  });

  it("passes the core tests of every mapped op family", () => {
    const byName = new Map(results.map((r) => [r.name, r]));
    const notPassing = CORE.filter((n) => byName.get(n)?.status !== "passed").map((n) => `${n}: ${byName.get(n)?.status} ${byName.get(n)?.reason ?? ""}`);
    expect(notPassing, notPassing.join("\n")).to.deep.equal([]);
  });

  it("reports a reason for every unsupported test", () => {
    const silent = results.filter((r) => r.status === "unsupported" && !r.reason).map((r) => r.name);
    expect(silent).to.deep.equal([]);
  });

  (SLOW ? it : it.skip)("passing tests also pass as generated C++ (KILN_SLOW_TESTS)", function () {
    const failures = results
      .filter((r) => r.status === "passed")
      .map((r) => runCase(ROOT, r.name, "cpp"))
      .filter((r) => r.status !== "passed")
      .map((r) => `${r.name}: ${r.reason}`);
    expect(failures, failures.join("\n")).to.deep.equal([]);
  });
});
