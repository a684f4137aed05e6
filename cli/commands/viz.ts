/**
 * `kiln viz <symbol.json>`: a picture of a network. DOT is written directly; SVG and HTML are
 * laid out here (cli/viz/layout.ts), so nothing outside Node is needed.
 */
import { writeFileSync } from "node:fs";
import type { Argv, CommandModule } from "yargs";
import { compileSymbol, KilnError } from "../../index.js";
import { UsageError, formatCount } from "../format.js";
import { inputShapes, loadParams, loadSymbol, modelStem, withShapeOption } from "../model.js";
import { buildVizGraph, kernelClusters } from "../viz/graph.js";
import { renderDot } from "../viz/dot.js";
import { renderSvg } from "../viz/svg.js";
import { renderHtml } from "../viz/html.js";

function builder(y: Argv) {
  return withShapeOption(
    y
      .positional("symbol", { type: "string", demandOption: true, describe: "path to a -symbol.json file" })
      .option("format", { choices: ["svg", "dot", "html"] as const, describe: "output format (default: from --out's extension, else svg)" })
      .option("out", { alias: "o", type: "string", describe: "file to write (default: standard output)" })
      .option("fused", { type: "boolean", default: false, describe: "group nodes by the fused kernel that computes them (needs every input shape)" })
      .option("params", { type: "string", describe: "a .params file: shapes of its arguments join --shape" })
      .option("show-params", { type: "boolean", default: false, describe: "draw weights, biases and aux states as nodes of their own instead of folding them into their layer" })
      .option("clusters", {
        type: "string",
        default: "auto",
        describe: "group nodes by name: auto (stage1_unit2-style tokens), none, or a regular expression whose capture groups nest",
      }),
    "input shape, e.g. data=1,3,224,224 (repeatable); shapes label the edges",
  )
    .example("$0 viz resnet-18-symbol.json --shape data=1,3,224,224 --out resnet18.html", "interactive page: pan, zoom, hover for details")
    .example("$0 viz resnet-18-symbol.json --shape data=1,3,224,224 --fused --out kernels.svg", "the fused kernels as groups")
    .example("$0 viz mnist-symbol.json --format dot | dot -Tpng -o mnist.png", "Graphviz source")
    .example("$0 viz vgg16-reduced-symbol.json --clusters '^(?:conv|relu|pool)(\\d+)'", "clusters from a regular expression");
}

type Args = ReturnType<typeof builder> extends Argv<infer U> ? U : never;

export const vizCommand: CommandModule<{}, Args> = {
  command: "viz <symbol>",
  describe: "Draw a network as SVG, Graphviz DOT or an interactive HTML page (shapes on edges, stages or fused kernels grouped)",
  builder,
  handler(argv) {
    const format = argv.format ?? (argv.out && /\.(dot|gv)$/i.test(argv.out) ? "dot" : argv.out && /\.html?$/i.test(argv.out) ? "html" : "svg");
    if (argv.clusters !== "auto" && argv.clusters !== "none")
      try {
        new RegExp(argv.clusters);
      } catch (e) {
        throw new UsageError(`--clusters ${argv.clusters}: not a regular expression (${(e as Error).message})`);
      }
    const net = loadSymbol(argv.symbol);
    const params = argv.params ? loadParams(argv.params) : undefined;
    const shapes = inputShapes(net, argv.shape, params);
    let kernels;
    let kernelCount = 0;
    if (argv.fused) {
      let compiled;
      try {
        compiled = compileSymbol(net, { shapes, target: "none" });
      } catch (e) {
        if (e instanceof KilnError && Object.keys(shapes).length === 0) throw new UsageError(`--fused compiles the network, which needs the input shapes: add --shape data=...`);
        throw e;
      }
      const graph = net.graph();
      const layerNames = graph.nodes.filter((n) => !n.isVariable).map((n) => n.name);
      const opOf = new Map(graph.nodes.map((n) => [n.name, n.op?.name ?? ""]));
      kernels = kernelClusters(compiled.kernels, layerNames, (n) => opOf.get(n) ?? "");
      kernelCount = compiled.kernels.filter((k) => k.phase === "forward").length;
    }
    const title = modelStem(argv.symbol);
    const { graph, summary } = buildVizGraph(net, { title, shapes, showParams: argv.showParams, clusters: argv.clusters, kernels });
    const stats =
      `${summary.layers.length} layers, ${formatCount(summary.trainableParams)} params` +
      (summary.auxParams ? ` + ${formatCount(summary.auxParams)} aux` : "") +
      (argv.fused ? `, ${kernelCount} kernels` : "");
    let text: string;
    if (format === "dot") text = renderDot(graph);
    else {
      const { svg } = renderSvg(graph);
      text = format === "html" ? renderHtml(graph, svg, stats) : svg;
    }
    if (argv.out) {
      writeFileSync(argv.out, text);
      console.log(`Wrote ${argv.out} (${format}: ${graph.nodes.length} nodes, ${graph.edges.length} edges, ${graph.clusters.length} ${argv.fused ? "kernel groups" : "clusters"}; ${stats})`);
    } else process.stdout.write(text);
  },
};
