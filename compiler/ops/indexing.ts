/** Indexing ops: take, pick, Embedding, one_hot, where. */
export * from "./indexing/take.js";
export * from "./indexing/select.js";
