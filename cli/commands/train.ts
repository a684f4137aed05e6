/**
 * `kiln train`: trains a Fashion-MNIST classifier with examples/train_fashion_mnist.ts. The
 * options mirror that program's own; they are parsed here (so --help lists them and typos
 * are usage errors) and handed to its `main` as command-line words.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import { KilnError } from "../../index.js";
import { UsageError } from "../format.js";

function builder(y: Argv) {
  return y
    .option("network", { choices: ["lenet", "mlp"] as const, default: "lenet" as const, describe: "LeNet-style CNN with BatchNorm, or a 784-128-64-10 MLP" })
    .option("epochs", { type: "number", default: 5, describe: "passes over the training set" })
    .option("batch-size", { type: "number", default: 100, describe: "images per batch" })
    .option("lr", { type: "number", describe: "learning rate (default: lenet 0.1, mlp 0.05)" })
    .option("momentum", { type: "number", default: 0.9, describe: "SGD momentum" })
    .option("wd", { type: "number", default: 1e-4, describe: "weight decay" })
    .option("lr-factor", { type: "number", describe: "multiply the learning rate by this after each epoch (default: lenet 0.7, mlp 0.5)" })
    .option("device", { type: "string", default: "auto", describe: "auto (gpu(0) when present, else cpu), cpu, gpu or gpu:N" })
    .option("data-dir", { alias: "data", type: "string", describe: "folder with the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)" })
    .option("checkpoint-dir", { alias: "checkpoint", type: "string", describe: "folder for the per-epoch checkpoints (default <tmp>/kiln-checkpoints)" })
    .option("subset", { type: "boolean", default: false, describe: "train on the shipped 1,000-image subset even when the full set is installed" })
    .option("seed", { type: "number", default: 42, describe: "seed of initialization and shuffling" })
    .option("progress", { type: "boolean", default: true, describe: "show a progress bar on stderr (--no-progress hides it)" })
    .example("$0 train --network mlp --epochs 5", "the MLP on the full Fashion-MNIST (or the subset when it is not installed)")
    .example("$0 train --network lenet --device gpu --checkpoint-dir ckpt", "LeNet on gpu(0), checkpoints in ckpt/")
    .example("$0 train --subset --epochs 1 --no-progress", "a quick run on the 1,000-image subset");
}

type Args = ReturnType<typeof builder> extends Argv<infer U> ? U : never;

/** The words examples/train_fashion_mnist.ts's parser understands, from the parsed options. */
export function trainArgv(a: ArgumentsCamelCase<Args>): string[] {
  const words = ["--network", a.network, "--epochs", String(a.epochs), "--batch-size", String(a.batchSize), "--momentum", String(a.momentum), "--wd", String(a.wd), "--device", a.device, "--seed", String(a.seed)];
  if (a.lr !== undefined) words.push("--lr", String(a.lr));
  if (a.lrFactor !== undefined) words.push("--lr-factor", String(a.lrFactor));
  if (a.dataDir !== undefined) words.push("--data-dir", a.dataDir);
  if (a.checkpointDir !== undefined) words.push("--checkpoint-dir", a.checkpointDir);
  if (a.subset) words.push("--subset");
  if (!a.progress) words.push("--no-progress");
  return words;
}

export const trainCommand: CommandModule<{}, Args> = {
  command: "train",
  describe: "Train a Fashion-MNIST classifier (LeNet or MLP) with checkpoints per epoch (examples/train_fashion_mnist)",
  builder,
  async handler(argv) {
    if (!/^(auto|cpu|(gpu|cuda)(:\d+)?)$/.test(argv.device)) throw new UsageError(`--device ${argv.device}: expected auto, cpu, gpu or gpu:N`);
    for (const [k, v] of [["epochs", argv.epochs], ["batch-size", argv.batchSize]] as const)
      if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${k} must be a positive integer, got ${v}`);
    const { main } = await import("../../examples/train_fashion_mnist.js");
    try {
      await main(trainArgv(argv));
    } catch (e) {
      // The example's own checks throw plain Errors with a clear message: report them as Kiln's.
      if (e instanceof Error && !(e instanceof KilnError) && !(e instanceof TypeError) && !(e instanceof RangeError)) throw new KilnError(e.message);
      throw e;
    }
  },
};
