// A stand-in for V8's memory reducer. Under --predictable (which bin/tfo-agentd passes) V8 runs
// without it, so nothing collects the old generation while the agent is quiet: garbage that
// survived a scavenge stays until the heap reaches V8's next limit, and RSS drifted up by 3-6 MB
// over minutes (docs/PERFORMANCE.md, "V8's young generation"). After an export, when the old
// generation has grown by TRIM_GROWTH_BYTES since it was last smallest, one full collection.
import { getHeapSpaceStatistics } from 'node:v8';

/** Growth of the old generation's used bytes that earns a full collection. */
export const TRIM_GROWTH_BYTES = 2 * 1024 * 1024;

export class HeapTrim {
  private floor = Infinity;
  private collections = 0;

  constructor(
    private readonly collect: () => void,
    private readonly oldGenerationUsed: () => number,
    private readonly growthBytes = TRIM_GROWTH_BYTES,
  ) {}

  /** With `node --expose-gc` (bin/tfo-agentd passes it); undefined otherwise, V8 then keeps its own memory reducer. */
  static fromRuntime(): HeapTrim | undefined {
    const gc = exposedGc();
    return gc === undefined ? undefined : new HeapTrim(gc, oldGenerationUsed);
  }

  /** Called after each export; true when it collected. */
  check(): boolean {
    const used = this.oldGenerationUsed();
    // A full collection V8 ran by itself lowers the floor as well.
    if (used < this.floor) this.floor = used;
    if (used - this.floor < this.growthBytes) return false;
    this.collect();
    this.collections += 1;
    this.floor = this.oldGenerationUsed();
    return true;
  }

  /** Full collections this ran. */
  count(): number {
    return this.collections;
  }
}

/** V8's full collection where `node --expose-gc` exposes it (bin/tfo-agentd passes the flag). */
export function exposedGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  return typeof gc === 'function' ? gc : undefined;
}

/** Bytes in use in V8's old generation (old objects and large objects; not the young generation, which every scavenge empties). */
export function oldGenerationUsed(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === 'old_space' || space.space_name === 'large_object_space') used += space.space_used_size;
  }
  return used;
}
