/**
 * The Python peer scripts of bench/peers are run only on the GPU machine (they need torch and
 * CUDA); here they are at least compiled by python3 (syntax), and their protocol helpers are
 * exercised: without torch or a GPU a script must print one {"error": …} JSON line, not a trace.
 */
import { expect } from "chai";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { REPO_ROOT } from "../helpers/paths.js";

const peers = join(REPO_ROOT, "bench", "peers");
const hasPython = spawnSync("python3", ["--version"]).status === 0;

describe("bench/peers (Python)", () => {
  const scripts = readdirSync(peers).filter((f) => f.endsWith(".py"));

  it("has the peer scripts", () => {
    expect(scripts).to.include("common.py");
  });

  for (const f of scripts) {
    it(`${f} compiles (python3 -m py_compile)`, function () {
      if (!hasPython) this.skip();
      const r = spawnSync("python3", ["-c", "import ast,sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])", join(peers, f)], { encoding: "utf8" });
      expect(r.status, r.stderr).to.equal(0);
    });
    if (f === "common.py") continue;
    it(`${f} answers with one JSON line when it cannot run (no torch or no GPU here)`, function () {
      if (!hasPython) this.skip();
      this.timeout(60000);
      const probe = spawnSync("python3", ["-c", "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"]);
      if (probe.status === 0) this.skip(); // a real GPU: the bench run itself exercises the script
      const r = spawnSync("python3", [join(peers, f)], { input: JSON.stringify({ cases: [], repeats: 1, warmup: 0 }), encoding: "utf8", cwd: peers });
      const last = r.stdout.trim().split("\n").pop() ?? "";
      const parsed = JSON.parse(last) as { error?: string; results?: unknown[] };
      expect(parsed.error ?? parsed.results, r.stderr).to.not.equal(undefined);
    });
  }
});
