/**
 * The executor's streaming loop, three stages deep: unit i+1 is read while unit i merges and
 * earlier units are written. Reads go into three buffer sets in turn, so the read of unit i+1
 * waits for the write of unit i−2 (whose result may live in that set); a merge waits only for its
 * inputs, so a write held up by the disk for a while delays no merge.
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
   * own that stays valid until the third merge after this one starts.
   */
  merge(index: number, loaded: Loaded): Promise<Uint8Array>;
  /** Writes are made one at a time, in order. */
  write(index: number, bytes: Uint8Array): Promise<void>;
  signal?: AbortSignal;
}

const ignore = () => undefined;

interface Tracked {
  promise: Promise<void>;
  settled: boolean;
}

export async function runTensorPipeline<Loaded>(steps: PipelineSteps<Loaded>): Promise<void> {
  if (steps.count === 0) return;
  const setOf = (index: number) => (index % BUFFER_SETS) as BufferSet;
  let next: Promise<Loaded> | undefined = steps.read(0, setOf(0));
  next.catch(ignore);
  let merging: Promise<Uint8Array> | undefined;
  /** Each unit's write, chained after the one before. */
  const writes: Tracked[] = [];
  try {
    for (let index = 0; index < steps.count; index++) {
      steps.signal?.throwIfAborted();
      const loaded = await next!;
      next = undefined;
      // A merge may reuse the own buffer of the merge three back: its write must be done (it is,
      // as the reads in between waited for the writes before it).
      await writes[index - BUFFER_SETS]?.promise;
      const readNext = () => {
        if (index + 1 >= steps.count) return;
        next = steps.read(index + 1, setOf(index + 1));
        next.catch(ignore);
      };
      // The next read reuses the set of unit index+1−BUFFER_SETS, free once that unit is written.
      const freeing = writes[index + 1 - BUFFER_SETS];
      if (!freeing || freeing.settled) {
        // Read ahead first, so that the read overlaps even a merge that holds this thread.
        readNext();
        merging = steps.merge(index, loaded);
      } else {
        merging = steps.merge(index, loaded);
        merging.catch(ignore);
        await freeing.promise;
        readNext();
      }
      const bytes = await merging;
      merging = undefined;
      const previous = writes[index - 1]?.promise ?? Promise.resolve();
      writes[index] = track(previous.then(() => steps.write(index, bytes)));
    }
    await writes[steps.count - 1]!.promise;
  } catch (error) {
    // Nothing may still be reading into or writing from the buffers once the caller cleans up.
    await Promise.allSettled([next, merging, writes[writes.length - 1]?.promise]);
    throw error;
  }
}

function track(promise: Promise<void>): Tracked {
  const tracked: Tracked = { promise, settled: false };
  promise.then(() => (tracked.settled = true), ignore);
  return tracked;
}
