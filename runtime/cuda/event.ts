/** CUDA events: points on a device's stream, for timing and waiting. */
import { KilnError } from "../../compiler/base/errors.js";
import type { CudaDevice } from "./device.js";

export class CudaEvent {
  private handle: bigint | undefined;

  constructor(readonly device: CudaDevice) {
    device.makeCurrent();
    this.handle = device.cu.cuEventCreate(0);
  }

  private get h(): bigint {
    if (this.handle === undefined) throw new KilnError("CudaEvent used after destroy()");
    return this.handle;
  }

  /** Marks the current end of the device's stream. */
  record(): this {
    this.device.makeCurrent();
    this.device.cu.cuEventRecord(this.h, this.device.stream);
    return this;
  }

  /** Waits until the work before the recorded point has finished. */
  synchronize(): void {
    this.device.cu.cuEventSynchronize(this.h);
  }

  /** Milliseconds from `start` to this event (both recorded; waits for this one). */
  elapsedSince(start: CudaEvent): number {
    this.synchronize();
    return this.device.cu.cuEventElapsedTime(start.h, this.h);
  }

  destroy(): void {
    if (this.handle === undefined) return;
    this.device.cu.cuEventDestroy(this.handle);
    this.handle = undefined;
  }
}

/** Times `fn`'s GPU work on `device` with a pair of events; returns milliseconds. */
export function timeOnDevice(device: CudaDevice, fn: () => void): number {
  const start = new CudaEvent(device);
  const end = new CudaEvent(device);
  try {
    start.record();
    fn();
    end.record();
    return end.elapsedSince(start);
  } finally {
    start.destroy();
    end.destroy();
  }
}
