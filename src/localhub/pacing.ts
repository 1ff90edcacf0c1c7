/**
 * A link that can be measured: the local Hub paces what it sends (and, for uploads, what it
 * reads) like a CDN in front of a runner — a rate per connection, a rate for the whole server
 * (one token bucket shared by every connection) and a latency before each answer's first byte.
 * Without settings nothing is paced, but bytes are still counted, so a benchmark can report the
 * bytes a merge pulled.
 *
 *   const hub = await startLocalHub({ dir, pacing: { perConnection: 10e6, total: 80e6, latencyMs: 20 } });
 *   hub.link.set({ perConnection: 40e6 });   // change it between runs
 *   hub.link.bytesSent;                      // body bytes sent so far
 */
import type { Socket } from "node:net";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";

export interface LinkPacing {
  /** Bytes per second one connection carries, each way (default: unlimited). */
  perConnection?: number;
  /** Bytes per second all connections together carry, each way (default: unlimited). */
  total?: number;
  /** Milliseconds before the first byte of every answer (default 0). */
  latencyMs?: number;
}

/** Bodies are paced in pieces of this size, so concurrent streams interleave finely. */
const PIECE_BYTES = 64 * 1024;
/** A bucket lets this much time's worth of bytes through at once (timers are coarse). */
const BURST_MS = 20;

/**
 * A token bucket as a schedule (GCRA): each taker reserves the time its bytes need at the rate,
 * after those reserved before it, and waits until its reservation is at most BURST_MS ahead.
 * Takers are served in the order they ask, so streams sharing a bucket share it evenly.
 */
export class TokenBucket {
  private due = 0;

  constructor(readonly bytesPerSecond: number) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`a rate must be > 0 bytes/s, got ${bytesPerSecond}`);
  }

  /** Milliseconds to wait before `bytes` may pass (reserving them). */
  reserve(bytes: number, now = performance.now()): number {
    this.due = Math.max(this.due, now - BURST_MS) + (bytes * 1000) / this.bytesPerSecond;
    return Math.max(0, this.due - now - BURST_MS);
  }

  async take(bytes: number): Promise<void> {
    const wait = this.reserve(bytes);
    if (wait > 0) await sleep(wait);
  }
}

interface Direction {
  total: TokenBucket | undefined;
  connections: WeakMap<Socket, TokenBucket>;
  bytes: number;
}

export class LinkPacer {
  private settings: LinkPacing = {};
  private readonly down: Direction = newDirection();
  private readonly up: Direction = newDirection();

  constructor(settings: LinkPacing = {}) {
    this.set(settings);
  }

  /** Replaces the settings (connections already open keep their old per-connection rate). */
  set(settings: LinkPacing): void {
    for (const [name, value] of Object.entries(settings)) {
      if (value !== undefined && !(typeof value === "number" && value >= 0 && Number.isFinite(value))) {
        throw new RangeError(`pacing ${name} must be a finite number ≥ 0, got ${String(value)}`);
      }
    }
    this.settings = { ...settings };
    for (const direction of [this.down, this.up]) {
      direction.total = settings.total ? new TokenBucket(settings.total) : undefined;
      direction.connections = new WeakMap();
    }
  }

  get current(): Readonly<LinkPacing> {
    return { ...this.settings };
  }

  /** Body bytes sent to clients so far. */
  get bytesSent(): number {
    return this.down.bytes;
  }

  /** Upload bytes read at a pace so far (uploads are counted only while a rate is set). */
  get bytesReceived(): number {
    return this.up.bytes;
  }

  resetCounts(): void {
    this.down.bytes = 0;
    this.up.bytes = 0;
  }

  /** Waits the configured latency: call before an answer's headers. */
  async firstByte(): Promise<void> {
    if (this.settings.latencyMs) await sleep(this.settings.latencyMs);
  }

  /** Copies `source` into `target` at the link's pace and ends it. */
  async pipe(source: Readable, target: Writable, socket: Socket | null): Promise<void> {
    if (!this.settings.perConnection && !this.settings.total) {
      // Unpaced: stream at full speed, only counting.
      source.on("data", (chunk: Buffer) => (this.down.bytes += chunk.byteLength));
      return pipeline(source, target);
    }
    try {
      for await (const chunk of source) {
        for (const piece of pieces(chunk as Buffer)) {
          await this.pass(this.down, socket, piece.byteLength);
          if (target.destroyed) throw new Error("the client went away");
          await write(target, piece);
        }
      }
      await new Promise<void>((resolve) => target.end(resolve));
    } finally {
      source.destroy();
    }
  }

  /** A request body read at the link's pace (uploads); the body itself when rates are unset. */
  incoming(source: Readable, socket: Socket | null): Readable {
    if (!this.settings.perConnection && !this.settings.total) return source;
    const pass = (bytes: number) => this.pass(this.up, socket, bytes);
    return Readable.from(
      (async function* () {
        for await (const chunk of source) {
          for (const piece of pieces(chunk as Buffer)) {
            await pass(piece.byteLength);
            yield piece;
          }
        }
      })(),
      { objectMode: false },
    );
  }

  private async pass(direction: Direction, socket: Socket | null, bytes: number): Promise<void> {
    direction.bytes += bytes;
    const rate = this.settings.perConnection;
    if (rate && socket) {
      let bucket = direction.connections.get(socket);
      if (!bucket) direction.connections.set(socket, (bucket = new TokenBucket(rate)));
      await bucket.take(bytes);
    }
    await direction.total?.take(bytes);
  }
}

function newDirection(): Direction {
  return { total: undefined, connections: new WeakMap(), bytes: 0 };
}

function* pieces(chunk: Buffer): Generator<Buffer> {
  for (let at = 0; at < chunk.byteLength; at += PIECE_BYTES) yield chunk.subarray(at, at + PIECE_BYTES);
}

/** One write, settled also when the connection closes before its callback runs. */
function write(target: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const closed = () => reject(new Error("the client went away"));
    target.once("close", closed);
    target.write(chunk, (error) => {
      target.off("close", closed);
      if (error) reject(error);
      else resolve();
    });
  });
}
