/**
 * Reused read buffers for a streaming merge. The pipeline holds up to three units' inputs at a
 * time (one being written from, one merging, the next being read), named by buffer sets 0, 1, 2.
 * Each input slot keeps up to four SharedArrayBuffers and a lease picks among the free ones so
 * that small tensors stay out of the large buffers: a model's few huge tensors (embeddings, LM
 * head) then share one buffer unless several are in flight together, and peak memory is set by the
 * largest units, not by the layer count or by when the garbage collector runs. Large elementwise
 * tensors come in pieces (work-units.ts), so those units are a few MiB. Fresh buffers would also
 * cost every unit its page faults; shared memory lets the kernel workers copy their chunks in
 * parallel.
 */
export const BUFFER_SETS = 3;
export type BufferSet = 0 | 1 | 2;

/** Buffers per slot: one per set at most in use, plus one so small units need not take a large one. */
const MAX_BUFFERS = BUFFER_SETS + 1;
/** A free buffer this many times a tensor's size is kept for larger ones, where there is a choice. */
const OVERSIZE = 4;

interface SlotBuffers {
  buffers: SharedArrayBuffer[];
  /** Per set, the index in `buffers` of the buffer it holds. */
  heldBy: (number | undefined)[];
}

export class ReadBuffers {
  private readonly slots: SlotBuffers[] = [];

  /**
   * A view of `bytes` bytes for input `slot` of `set`. It stays valid, and its bytes untouched,
   * until the same set and slot are leased again; that lease releases it.
   */
  lease(set: BufferSet, slot: number, bytes: number): Uint8Array {
    const state = (this.slots[slot] ??= { buffers: [], heldBy: new Array(BUFFER_SETS).fill(undefined) });
    state.heldBy[set] = undefined;
    const chosen = this.choose(state, new Set(state.heldBy.filter((i) => i !== undefined)), bytes);
    state.heldBy[set] = chosen;
    return new Uint8Array(state.buffers[chosen]!, 0, bytes);
  }

  /**
   * The smallest free buffer that fits without being oversized; else a new buffer while there are
   * fewer than MAX_BUFFERS; else a free too-small one, grown; else the smallest free one that fits.
   */
  private choose(state: SlotBuffers, busy: ReadonlySet<number>, bytes: number): number {
    const free = state.buffers
      .map((buffer, index) => ({ index, size: buffer.byteLength }))
      .filter((b) => !busy.has(b.index));
    const fitting = free.filter((b) => b.size >= bytes).sort((a, b) => a.size - b.size);
    if (fitting[0] && fitting[0].size < OVERSIZE * Math.max(bytes, 1)) return fitting[0].index;
    let index = state.buffers.length;
    if (index >= MAX_BUFFERS) {
      const small = free.find((b) => b.size < bytes);
      if (!small) return fitting[0]!.index;
      index = small.index;
    }
    state.buffers[index] = new SharedArrayBuffer(bytes);
    return index;
  }

  /** Bytes allocated, for tests and diagnostics. */
  get allocatedBytes(): number {
    return this.slots.reduce((sum, s) => sum + s.buffers.reduce((a, b) => a + b.byteLength, 0), 0);
  }
}
