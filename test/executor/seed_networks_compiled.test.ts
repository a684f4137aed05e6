/**
 * The seed networks (examples/seed_networks.ts) on cpu() against the reference executor, fused
 * and unfused, where models.test.ts leaves gaps: the regression loss unfused, and
 * Inception-ResNet-v2 at its smallest input, 1×3×75×75 (shape inference rejects 74: the stem's
 * stride-2 convolutions and poolings leave nothing for Reduction-B). At 75 its 8×8 blocks run on
 * 1×1 maps. Inference runs by default; training (BatchNorm with batch statistics, backward
 * through all 244 conv+BN units) takes about a minute and runs with KILN_SLOW_TESTS=1.
 */
import { withNameManager } from "../../index.js";
import { inceptionResNetV2, regressionLoss } from "../../examples/seed_networks.js";
import { compareWithReference, withoutDropout } from "./model_compare.js";

const SLOW = process.env.KILN_SLOW_TESTS === "1";

describe("compiled executor (cpu, C++): seed networks, remaining cases", () => {
  it("regression loss with a BlockGrad output, forward and backward, fused and unfused", () => {
    const net = withNameManager(() => regressionLoss());
    compareWithReference(net, { data: [5, 7], label: [5, 1] }, { train: true });
  });

  it("Inception-ResNet-v2 inference at 1×3×75×75, fused and unfused", function () {
    this.timeout(300000);
    const net = withNameManager(() => inceptionResNetV2(10));
    compareWithReference(net, { data: [1, 3, 75, 75] }, { train: false, ints: [[/label/, 10]] });
  });

  (SLOW ? it : it.skip)("Inception-ResNet-v2 training at 1×3×75×75, fused and unfused (KILN_SLOW_TESTS)", function () {
    this.timeout(600000);
    const net = withoutDropout(withNameManager(() => inceptionResNetV2(10)));
    compareWithReference(net, { data: [1, 3, 75, 75] }, { train: true, ints: [[/label/, 10]] });
  });
});
