/**
 * The executor's streaming loop, three stages deep: tensor i+1 is read while tensor i merges, and
 * tensor i is written while tensor i+1 merges. Reads go into two alternating buffer sets, so the
 * read of tensor i+1 waits for the write of tensor i−1 (whose result may live in that set).
 *
 *   await runTensorPipeline({ count, read, merge, write });
 *
 * The benchmark runs the same loop, which is what makes its I/O floor the floor of real merges.
 */
import type { BufferSet } from "./read-buffers.js";

export interface PipelineSteps<Loaded> {
  count: number;
  /** Reads tensor `index`'s inputs into buffer set `set`. */
  read(index: number, set: BufferSet): Promise<Loaded>;
  /**
   * Merges tensor `index`. The result may live in the set's buffers, or in a buffer of the merge's
   * own that stays valid until the second merge after this one starts.
   */
  merge(index: number, loaded: Loaded): Promise<Uint8Array>;
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
  let next: Promise<Loaded> | undefined = steps.read(0, 0);
  next.catch(ignore);
  let writing: Tracked | undefined;
  let merging: Promise<Uint8Array> | undefined;
  try {
    for (let index = 0; index < steps.count; index++) {
      steps.signal?.throwIfAborted();
      const loaded = await next!;
      next = undefined;
      const readNext = () => {
        if (index + 1 >= steps.count) return;
        next = steps.read(index + 1, ((index + 1) % 2) as BufferSet);
        next.catch(ignore);
      };
      if (!writing || writing.settled) {
        // Free to read ahead first, so the read overlaps even a merge that holds this thread.
        readNext();
        merging = steps.merge(index, loaded);
      } else {
        merging = steps.merge(index, loaded);
        merging.catch(ignore);
        await writing.promise;
        readNext();
      }
      const bytes = await merging;
      merging = undefined;
      writing = track(steps.write(index, bytes));
    }
    await writing?.promise;
  } catch (error) {
    // Nothing may still be reading into or writing from the buffers once the caller cleans up.
    await Promise.allSettled([next, merging, writing?.promise]);
    throw error;
  }
}

function track(promise: Promise<void>): Tracked {
  const tracked: Tracked = { promise, settled: false };
  promise.then(() => (tracked.settled = true), ignore);
  return tracked;
}
