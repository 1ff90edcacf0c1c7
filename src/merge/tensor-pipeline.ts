/**
 * The executor's streaming loop, three stages deep: unit i+1 is read while unit i merges and
 * unit i−1 is written. Reads go into three buffer sets in turn, so the read of unit i+1 only
 * waits for the write of unit i−2 (whose result may live in that set), which is long done.
 *
 *   await runTensorPipeline({ count, read, merge, write });
 *
 * The benchmark runs the same loop, which is what makes its I/O floor the floor of real merges.
 */
import { BUFFER_SETS, type BufferSet } from "./read-buffers.js";

export interface PipelineSteps<Loaded> {
  count: number;
  /** Reads unit `index`'s inputs into buffer set `set`. */
  read(index: number, set: BufferSet): Promise<Loaded>;
  /**
   * Merges unit `index`. The result may live in the set's buffers, or in a buffer of the merge's
   * own that stays valid until the second merge after this one starts.
   */
  merge(index: number, loaded: Loaded): Promise<Uint8Array>;
  /** Writes are made one at a time, in order. */
  write(index: number, bytes: Uint8Array): Promise<void>;
  signal?: AbortSignal;
}

const ignore = () => undefined;

export async function runTensorPipeline<Loaded>(steps: PipelineSteps<Loaded>): Promise<void> {
  if (steps.count === 0) return;
  const setOf = (index: number) => (index % BUFFER_SETS) as BufferSet;
  let next: Promise<Loaded> | undefined = steps.read(0, setOf(0));
  next.catch(ignore);
  let merging: Promise<Uint8Array> | undefined;
  /** Each unit's write, chained after the one before. */
  const writes: Promise<void>[] = [];
  try {
    for (let index = 0; index < steps.count; index++) {
      steps.signal?.throwIfAborted();
      const loaded = await next!;
      next = undefined;
      // Unit index−2's write frees the set the next read fills, and whatever buffer of the
      // merge's own it was written from (reused by this merge).
      await writes[index - 2];
      if (index + 1 < steps.count) {
        next = steps.read(index + 1, setOf(index + 1));
        next.catch(ignore);
      }
      merging = steps.merge(index, loaded);
      const bytes = await merging;
      merging = undefined;
      const previous = writes[index - 1] ?? Promise.resolve();
      writes[index] = previous.then(() => steps.write(index, bytes));
      writes[index]!.catch(ignore);
    }
    await writes[steps.count - 1];
  } catch (error) {
    // Nothing may still be reading into or writing from the buffers once the caller cleans up.
    await Promise.allSettled([next, merging, writes[writes.length - 1]]);
    throw error;
  }
}
