/**
 * Read-ahead for remote sources, within a memory budget (`--read-ahead`, default 1 GiB). The
 * pipeline reads one unit ahead of the merge; over a network that leaves the link idle between
 * units (a first-byte latency per unit, and small tensors that cannot fill the connections).
 * Given every read of the run in pipeline order, this fetches the next ones into buffers of its
 * own while the bytes they hold stay within the budget, and hands each over (one copy) when the
 * pipeline asks for it, freeing its share of the budget and fetching further.
 *
 * - Reads are started in order, so with the FIFO connection budget the read the pipeline needs
 *   next is always first in line.
 * - A read larger than the budget is never fetched ahead: it is read straight into the
 *   pipeline's buffer when its turn comes, so memory stays bounded whatever the tensor sizes.
 * - The bytes are the source's bytes; only when they arrive changes.
 */
export interface PlannedRead {
  bytes: number;
  /** Fills `target` (exactly `bytes` long) with this read's bytes. */
  read(target: Uint8Array): Promise<void>;
}

export const DEFAULT_READ_AHEAD_BYTES = 1024 * 1024 * 1024;

interface Fetched {
  buffer: Uint8Array;
  done: Promise<void>;
}

const ignore = () => undefined;

export class ReadAhead {
  private next = 0;
  private held = 0;
  private heldPeak = 0;
  private closed = false;
  private readonly fetched = new Map<number, Fetched>();
  /** Reads the pipeline took before they were fetched ahead: never fetch them. */
  private readonly taken = new Set<number>();

  constructor(
    private readonly reads: readonly PlannedRead[],
    readonly budgetBytes: number = DEFAULT_READ_AHEAD_BYTES,
  ) {
    if (!Number.isSafeInteger(budgetBytes) || budgetBytes < 0) {
      throw new RangeError(`the read-ahead budget must be a byte count ≥ 0, got ${budgetBytes}`);
    }
  }

  /** Starts fetching ahead (call once the pipeline is ready to consume). */
  start(): void {
    this.fill();
  }

  /** Bytes held by reads fetched ahead and not yet handed over: never above the budget. */
  get heldBytes(): number {
    return this.held;
  }

  get peakHeldBytes(): number {
    return this.heldPeak;
  }

  /** Read `index` into `target`: from its fetched-ahead copy, or straight from the source. */
  async readInto(index: number, target: Uint8Array): Promise<void> {
    const read = this.reads[index]!;
    if (target.byteLength !== read.bytes) throw new RangeError(`read ${index} is ${read.bytes} bytes`);
    const fetched = this.fetched.get(index);
    if (!fetched) {
      this.taken.add(index);
      this.fill();
      return read.read(target);
    }
    try {
      await fetched.done;
      target.set(fetched.buffer);
    } finally {
      this.fetched.delete(index);
      this.held -= read.bytes;
      this.fill();
    }
  }

  /** Stops fetching ahead and waits for what is in flight (nothing may run after the merge). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.fetched.values()].map((f) => f.done));
    this.fetched.clear();
    this.held = 0;
  }

  /** Fetches the next reads, in order, while they fit in the budget. */
  private fill(): void {
    while (!this.closed && this.next < this.reads.length) {
      const index = this.next;
      if (this.taken.has(index)) {
        this.next++;
        continue;
      }
      const { bytes } = this.reads[index]!;
      // A read larger than the whole budget is left to the pipeline, which reads it directly
      // when it needs it; otherwise wait at the first read that does not fit yet.
      if (bytes > this.budgetBytes) {
        this.next++;
        continue;
      }
      if (this.held + bytes > this.budgetBytes) return;
      this.next++;
      this.held += bytes;
      this.heldPeak = Math.max(this.heldPeak, this.held);
      const buffer = new Uint8Array(bytes);
      const done = this.reads[index]!.read(buffer);
      done.catch(ignore);
      this.fetched.set(index, { buffer, done });
    }
  }
}
