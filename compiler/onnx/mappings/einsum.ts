/**
 * Einsum as a broadcast product over the union of the equation's letters followed by a sum
 * over the contracted letters: each operand is transposed into the letter order and given
 * size-1 dims for the letters it lacks. Ellipses broadcast numpy-style; a letter repeated
 * within one operand (a diagonal) is not supported.
 */
import { Symbol } from "../../symbol/symbol.js";
import { defineMappings, Mapper } from "./registry.js";
import { out, reshape } from "./util.js";

const einsum: Mapper = (n) => {
  const eq = (n.str("equation") ?? n.fail("has no equation")).replace(/\s+/g, "");
  const [lhs, rhs] = eq.split("->");
  const terms = lhs.split(",");
  if (terms.length !== n.numInputs) n.fail(`equation has ${terms.length} operands, the node ${n.numInputs}`);
  const shapes = terms.map((_, i) => n.fullShape(i));
  // Ellipsis dims get the letters A, B, … aligned from the right across operands.
  const ellRank = Math.max(0, ...terms.map((t, i) => (t.includes("...") ? shapes[i].length - (t.length - 3) : 0)));
  const ellLetters = Array.from({ length: ellRank }, (_, k) => String.fromCharCode(65 + k));
  const expand = (t: string, rank: number): string[] => {
    if (!t.includes("...")) return [...t];
    const [a, b] = t.split("...");
    const k = rank - a.length - b.length;
    return [...a, ...ellLetters.slice(ellRank - k), ...b];
  };
  const letters = terms.map((t, i) => expand(t, shapes[i].length));
  letters.forEach((ls, i) => {
    if (ls.length !== shapes[i].length) n.fail(`operand ${i} has rank ${shapes[i].length}, its term "${terms[i]}" ${ls.length} letters`);
    if (new Set(ls).size !== ls.length) n.unsupported(`repeated letter in "${terms[i]}" (a diagonal)`);
  });
  const all: string[] = [];
  for (const ls of letters) for (const l of ls) if (!all.includes(l)) all.push(l);
  const size = new Map<string, number>();
  letters.forEach((ls, i) => ls.forEach((l, d) => size.set(l, Math.max(size.get(l) ?? 1, shapes[i][d]))));
  let outLetters: string[];
  if (rhs !== undefined) outLetters = expand(rhs, ellRank + rhs.replace("...", "").length);
  else {
    const counts = new Map<string, number>();
    for (const ls of letters) for (const l of ls) counts.set(l, (counts.get(l) ?? 0) + 1);
    outLetters = [...ellLetters, ...all.filter((l) => !ellLetters.includes(l) && counts.get(l) === 1).sort()];
  }
  let acc: Symbol | undefined;
  if (all.length === 0) {
    // Only scalars: their product.
    for (let i = 0; i < n.numInputs; i++) acc = acc ? n.op("broadcast_mul", { lhs: acc, rhs: n.in(i) }) : n.op("_copy", { data: n.in(i) });
    return [out(acc!, true)];
  }
  letters.forEach((ls, i) => {
    const order = all.filter((l) => ls.includes(l));
    const perm = order.map((l) => ls.indexOf(l));
    let x = n.in(i);
    if (perm.some((p, k) => p !== k)) x = n.op("transpose", { data: x, axes: perm });
    x = reshape(n, x, all.map((l) => (ls.includes(l) ? shapes[i][ls.indexOf(l)] : 1)));
    acc = acc ? n.op("broadcast_mul", { lhs: acc, rhs: x }) : x;
  });
  const summed = all.map((l, d) => (outLetters.includes(l) ? -1 : d)).filter((d) => d >= 0);
  let y = acc!;
  if (summed.length === all.length) return [out(n.op("sum", { data: y, keepdims: false }), true)];
  if (summed.length) y = n.op("sum", { data: y, axis: summed, keepdims: false });
  const kept = all.filter((l) => outLetters.includes(l));
  const perm = outLetters.map((l) => kept.indexOf(l));
  if (perm.some((p, k) => p !== k)) y = n.op("transpose", { data: y, axes: perm });
  // A product of broadcast operands needs the full output shape (size-1 dims stay as they are).
  const want = outLetters.map((l) => size.get(l)!);
  const have = n.symFullShape(y);
  if (have.some((d, k) => d !== want[k])) y = n.op("broadcast_to", { data: y, shape: want });
  return [y === n.in(0) ? n.op("_copy", { data: y }) : y];
};

defineMappings({ Einsum: einsum });
