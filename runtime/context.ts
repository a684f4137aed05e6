/**
 * Device contexts. `reference()` is the float64 TypeScript interpreter, always available;
 * `cpu()` holds arrays in host memory; `gpu(id)` in CUDA device memory. A context is only a
 * name: creating `gpu(0)` on a machine without a GPU is fine, using it throws and says why.
 */
export type DeviceType = "reference" | "cpu" | "gpu";

export class Context {
  constructor(
    readonly deviceType: DeviceType,
    readonly deviceId = 0,
  ) {}

  toString(): string {
    return `${this.deviceType}(${this.deviceId})`;
  }

  equals(other: Context): boolean {
    return this.deviceType === other.deviceType && this.deviceId === other.deviceId;
  }
}

/** The reference interpreter: float64 everywhere, slow and obviously right. */
export function reference(): Context {
  return new Context("reference", 0);
}

export function cpu(id = 0): Context {
  return new Context("cpu", id);
}

/** CUDA device `id`. Checked at first use (an array, a kernel), not here. */
export function gpu(id = 0): Context {
  return new Context("gpu", id);
}
