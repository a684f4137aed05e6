/**
 * Generated C++ checked kernel by kernel against the interpreter: every distinct kernel the
 * compiled executor ran through the "interpret" backend during the whole suite (all op tests'
 * graphs, fused and unfused, forward and backward) is recorded with its real input values;
 * after the suite, all of them are rendered into one C++ module, compiled once, and each is
 * called on its recorded inputs and compared with the interpreter's output.
 * Runs as a root-level after hook (as the op coverage test does), so it sees every test's kernels.
 */
import { expect } from "chai";
import { cpuKernels } from "../../index.js";
import type { Kernel } from "../../compiler/ir/kernel.js";
import { Tensor } from "../../compiler/ops/tensor.js";
import { renderModule } from "../../compiler/codegen/index.js";
import { interpretTrace } from "../../runtime/executor/compiled_host.js";
import { allocHost, readHost, writeHost, HostArray } from "../../runtime/host_buffer.js";

interface Recorded {
  kernel: Kernel;
  inputs: Tensor[];
  before: Tensor | undefined;
  after: Tensor;
}

const recorded = new Map<string, Recorded>();
interpretTrace.record = (kernel, inputs, before, after) => {
  if (!recorded.has(kernel.name)) recorded.set(kernel.name, { kernel, inputs, before, after });
};

/** Tolerance by output dtype: float64 agrees to rounding; float32 code computes in float. */
const TOL: Record<string, number> = { float64: 1e-9, float32: 1e-4, float16: 2e-2 };

function hostOf(t: Tensor, dtype: Parameters<typeof allocHost>[0]): HostArray {
  const buf = allocHost(dtype, t.size, false);
  for (let i = 0; i < t.size; i++) writeHost(buf, dtype, i, t.data[i], false);
  return buf;
}

describe("compiled executor: generated C++ kernels", () => {
  it("records the kernels the interpreter runs (checked after the whole suite)", () => {
    expect(interpretTrace.record).to.be.a("function");
  });
});

after(function () {
  this.timeout(240000);
  if (recorded.size === 0 || !cpuKernels.compiler().compiler) return;
  const all = [...recorded.values()];
  // A few modules rather than one: the compiler's time grows faster than linearly with size.
  const CHUNK = 400;
  const failures: string[] = [];
  for (let start = 0; start < all.length; start += CHUNK) {
    const chunk = all.slice(start, start + CHUNK);
    const mod = renderModule(
      chunk.map((r) => r.kernel),
      "cpp",
    );
    const lib = cpuKernels.compile(mod.source, { extraFlags: ["-O1"] });
    mod.kernels.forEach((info, k) => {
      const r = chunk[k];
      const st = r.kernel.stage;
      const ins = st.inputs.map((t, i) => hostOf(r.inputs[i], t.dtype));
      const out = r.before ? hostOf(r.before, st.out.dtype) : allocHost(st.out.dtype, r.after.size, false);
      lib.getFunction(info.name, info.params).call([...ins, out]);
      const tol = TOL[st.out.dtype] ?? 0;
      for (let i = 0; i < r.after.size; i++) {
        const w = r.after.data[i];
        const g = readHost(out, st.out.dtype, i, false);
        const ok = (Number.isNaN(w) && Number.isNaN(g)) || g === w || Math.abs(g - w) <= tol * Math.max(1, Math.abs(w));
        if (!ok) {
          failures.push(`${r.kernel.name} [${r.kernel.ops.join(", ")}] ${st.out.dtype}[${i}]: C++ ${g}, interpreter ${w}`);
          break;
        }
      }
    });
  }
  if (process.env.KILN_TEST_VERBOSE) console.log(`checked ${all.length} generated C++ kernels against the interpreter`);
  expect(failures, `${failures.length} of ${all.length} kernels differ`).to.deep.equal([]);
});
