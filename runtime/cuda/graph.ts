/**
 * CUDA graphs by stream capture: record a sequence of launches and copies once, replay it with
 * one driver call. The replay reuses the captured pointers and scalar values, so inputs are
 * changed by writing into the captured arrays, not by passing new ones.
 */
import { KilnError } from "../../compiler/base/errors.js";
import type { CudaDevice } from "./device.js";

/** How other threads' CUDA calls are treated during capture (CUstreamCaptureMode). */
export type CaptureMode = "global" | "threadLocal" | "relaxed";
const MODES: Record<CaptureMode, number> = { global: 0, threadLocal: 1, relaxed: 2 };

export class CudaGraph {
  private exec: bigint | undefined;
  private graph: bigint | undefined;

  /** Use {@link captureGraph}. */
  constructor(
    readonly device: CudaDevice,
    graph: bigint,
  ) {
    this.graph = graph;
    device.makeCurrent();
    this.exec = device.cu.cuGraphInstantiate(graph);
  }

  /** Queues one replay on the device's stream. */
  launch(): void {
    if (this.exec === undefined) throw new KilnError("CudaGraph used after destroy()");
    this.device.makeCurrent();
    this.device.cu.cuGraphLaunch(this.exec, this.device.stream);
  }

  destroy(): void {
    if (this.exec !== undefined) this.device.cu.cuGraphExecDestroy(this.exec);
    if (this.graph !== undefined) this.device.cu.cuGraphDestroy(this.graph);
    this.exec = this.graph = undefined;
  }
}

/**
 * Captures the device work `record` queues on `device`'s stream into a graph. Nothing runs
 * during capture. Relaxed mode by default, so the allocator may still call cuMemAlloc; host
 * copies (which use pageable memory) must happen outside `record`.
 */
export function captureGraph(device: CudaDevice, record: () => void, mode: CaptureMode = "relaxed"): CudaGraph {
  device.makeCurrent();
  device.cu.cuStreamBeginCapture(device.stream, MODES[mode]);
  try {
    record();
  } catch (err) {
    // End the capture so the stream is usable again; the partial graph is discarded.
    try {
      device.cu.cuGraphDestroy(device.cu.cuStreamEndCapture(device.stream));
    } catch {
      /* the original error matters more */
    }
    throw err;
  }
  const graph = device.cu.cuStreamEndCapture(device.stream);
  try {
    return new CudaGraph(device, graph);
  } catch (err) {
    device.cu.cuGraphDestroy(graph);
    throw err;
  }
}
