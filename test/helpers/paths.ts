/** Where tests find the repository and ../shared/data, however the tests were compiled. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

function findRepoRoot(): string {
  for (let dir = resolve(process.cwd()); ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "kiln") return dir;
    if (dirname(dir) === dir) throw new Error("run the tests from inside the kiln repository");
  }
}

export const REPO_ROOT = findRepoRoot();
/** ../shared/data beside the repository (KILN_SHARED_DATA overrides). */
export const SHARED_DATA = process.env.KILN_SHARED_DATA ?? join(REPO_ROOT, "..", "shared", "data");
if (!existsSync(SHARED_DATA))
  throw new Error(`the test data folder ${SHARED_DATA} does not exist: check out the repository beside shared/, or set KILN_SHARED_DATA`);
export const MODELS_DIR = join(SHARED_DATA, "mxnet-models");
