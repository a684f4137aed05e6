import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { REPO_ROOT as root, MODELS_DIR } from "./helpers/paths.js";

describe("package", () => {
  it('resolves `import { sym, rnn, reference } from "kiln"` inside the repository after the build', async () => {
    const name = "kiln";
    const kiln = (await import(name)) as Record<string, unknown>;
    for (const k of ["sym", "rnn", "reference", "nd", "Symbol", "listOps"]) expect(kiln, k).to.have.property(k);
  });

  it("the kiln CLI lists operators and describes a model file", () => {
    const cli = `${root}/dist/cli/kiln.js`;
    const ops = JSON.parse(execFileSync(process.execPath, [cli, "ops", "--json"], { encoding: "utf8" })) as { name: string; pattern: string }[];
    expect(ops.find((o) => o.name === "Convolution")?.pattern).to.equal("outEWiseFusable");
    const info = execFileSync(process.execPath, [cli, "info", `${MODELS_DIR}/lenet-symbol.json`, "--shape", "data=1,1,28,28"], {
      encoding: "utf8",
    });
    expect(info).to.match(/output\s+hybridsequential0_dense1_fwd_output\s+\(1, 10\)/);
    let failed = "";
    try {
      execFileSync(process.execPath, [cli, "info", "/nonexistent-symbol.json"], { encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      failed = String((e as { stderr: string }).stderr);
    }
    expect(failed).to.match(/kiln: .*nonexistent-symbol.json/);
  });
});
