/**
 * Automatic node names as MXNet's NameManager gives them: `<hint><counter>` with one counter
 * per hint (`fullyconnected0`, `activation1`, `_plus0`). The current manager is global, as in
 * MXNet; `withNameManager` swaps in a fresh one for a block (tests, independent networks).
 */
export class NameManager {
  private readonly counters = new Map<string, number>();

  constructor(readonly prefix = "") {}

  /** Returns `name` when given, else the next automatic name for the hint. */
  get(name: string | undefined, hint: string): string {
    if (name !== undefined) return this.prefix + name;
    const n = this.counters.get(hint) ?? 0;
    this.counters.set(hint, n + 1);
    return `${this.prefix}${hint}${n}`;
  }
}

let current = new NameManager();

export function currentNameManager(): NameManager {
  return current;
}

/** Runs `fn` with `manager` (default: a fresh one) as the current name manager. */
export function withNameManager<T>(fn: () => T, manager: NameManager = new NameManager()): T {
  const saved = current;
  current = manager;
  try {
    return fn();
  } finally {
    current = saved;
  }
}

/** Starts every automatic counter from 0 again. */
export function resetNames(): void {
  current = new NameManager();
}
