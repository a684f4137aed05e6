/** `kiln ops`: the registered operators. */
import type { Argv, CommandModule } from "yargs";
import { listOps } from "../../index.js";
import { formatTable } from "../format.js";

function builder(y: Argv) {
  return y
    .option("json", { type: "boolean", default: false, describe: "print JSON instead of a table" })
    .example("$0 ops", "every operator: name, aliases, fusion pattern, inputs and params")
    .example("$0 ops --json", "the same as JSON");
}

type Args = ReturnType<typeof builder> extends Argv<infer U> ? U : never;

export const opsCommand: CommandModule<{}, Args> = {
  command: "ops",
  describe: "List the registered operators: name, aliases, fusion pattern, inputs and params",
  builder,
  handler(argv) {
    const ops = listOps()
      .filter((op) => !op.name.startsWith("_backward_"))
      .map((op) => ({
        name: op.name,
        aliases: [...(op.aliases ?? [])],
        pattern: op.pattern,
        inputs: op.variadic ? ["data[]"] : [...op.inputs],
        params: Object.entries(op.params).map(([k, spec]) => (spec.required ? k : `${k}=${spec.default === null ? "None" : spec.print(spec.default)}`)),
      }));
    if (argv.json) console.log(JSON.stringify(ops, null, 2));
    else
      console.log(
        formatTable(
          ["op", "aliases", "pattern", "inputs", "params"],
          ops.map((o) => [o.name, o.aliases.join(" "), o.pattern, o.inputs.join(" "), o.params.join(" ")]),
        ),
      );
  },
};
