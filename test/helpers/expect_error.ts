import { expect } from "chai";

/** Asserts that `f` throws, and that the message contains every one of `parts`. */
export function expectError(f: () => unknown, ...parts: string[]): void {
  let msg = "";
  try {
    f();
  } catch (e) {
    msg = (e as Error).message;
  }
  expect(msg, "an error was expected").to.not.equal("");
  for (const p of parts) expect(msg).to.include(p);
}
