/**
 * The run-wide budget of range requests in flight (`--connections`, default 16): one FIFO
 * semaphore that every Hub byte source of a run shares. Waiters are served in the order they
 * asked, so the reads the pipeline needs first (issued first) get connections first, and
 * read-ahead never starves them.
 */
export const DEFAULT_CONNECTIONS = 16;

export class ConnectionBudget {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  private busyPeak = 0;

  constructor(readonly size: number = DEFAULT_CONNECTIONS) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`connections must be ≥ 1, got ${size}`);
    this.free = size;
  }

  /** Runs `task` holding one connection. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** The most connections ever held at once (tests and the bench check the budget held). */
  get peak(): number {
    return this.busyPeak;
  }

  private acquire(): Promise<void> {
    if (this.free > 0) {
      this.take();
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    // The connection passes straight to the next waiter: nobody can jump the queue.
    if (next) next();
    else this.free++;
  }

  private take(): void {
    this.free--;
    this.busyPeak = Math.max(this.busyPeak, this.size - this.free);
  }
}
