import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Dispatcher, type Dispatch } from "../../src/bot/dispatcher.js";
import { silentLogger } from "../../src/bot/log.js";
import { sha } from "./harness.js";

let sent: Dispatch[];
let failNext: number;

function dispatcher(debounceMs = 1000, recentCapacity = 100): Dispatcher {
  return new Dispatcher({
    debounceMs,
    recentCapacity,
    logger: silentLogger,
    send: async (d) => {
      if (failNext > 0) {
        failNext--;
        throw new Error("GitHub is down");
      }
      sent.push(d);
    },
  });
}

beforeEach(() => {
  sent = [];
  failNext = 0;
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("Dispatcher", () => {
  it("debounces per (repository, model): one dispatch with the newest sha after the quiet time", async () => {
    const d = dispatcher(1000);
    d.offer("acme/ft", sha(1), ["acme/a", "acme/b"]);
    await vi.advanceTimersByTimeAsync(600);
    d.offer("acme/ft", sha(2), ["acme/a"]);
    d.offer("acme/other", sha(9), ["acme/a"]);
    await vi.advanceTimersByTimeAsync(600);
    expect(sent).toEqual([{ repo: "acme/b", model: "acme/ft", sha: sha(1) }]);
    await vi.advanceTimersByTimeAsync(600);
    expect(sent.slice(1)).toEqual([
      { repo: "acme/a", model: "acme/ft", sha: sha(2) },
      { repo: "acme/a", model: "acme/other", sha: sha(9) },
    ]);
  });

  it("skips a sha already sent, scheduled or superseded, comparing names case-insensitively", async () => {
    const d = dispatcher(10);
    d.offer("acme/ft", sha(1), ["acme/a"]);
    d.offer("acme/ft", sha(2), ["acme/a"]);
    expect(d.offer("ACME/FT", sha(2), ["Acme/A"]).skipped).toEqual([
      { repo: "Acme/A", reason: "already scheduled" },
    ]);
    await d.flush();
    expect(d.offer("acme/ft", sha(2), ["acme/a"]).skipped[0]?.reason).toBe("already dispatched");
    expect(d.offer("acme/ft", sha(1), ["acme/a"]).skipped[0]?.reason).toBe("already dispatched"); // superseded
    expect(sent.map((s) => s.sha)).toEqual([sha(2)]);
  });

  it("forgets a failed send so that the same sha can be offered again", async () => {
    const d = dispatcher(10);
    failNext = 1;
    d.offer("acme/ft", sha(1), ["acme/a"]);
    await d.flush();
    expect(sent).toEqual([]);
    expect(d.offer("acme/ft", sha(1), ["acme/a"]).scheduled).toEqual(["acme/a"]);
    await d.flush();
    expect(sent.map((s) => s.sha)).toEqual([sha(1)]);
  });

  it("remembers a bounded number of shas", async () => {
    const d = dispatcher(0, 2);
    for (const n of [1, 2, 3]) {
      d.offer("acme/ft", sha(n), ["acme/a"]);
      await d.flush();
    }
    expect(d.offer("acme/ft", sha(3), ["acme/a"]).scheduled).toEqual([]);
    expect(d.offer("acme/ft", sha(1), ["acme/a"]).scheduled).toEqual(["acme/a"]); // evicted: accepted again
  });

  it("sends pending dispatches on close and refuses new ones after", async () => {
    const d = dispatcher(60_000);
    d.offer("acme/ft", sha(1), ["acme/a"]);
    await d.close();
    expect(sent).toHaveLength(1);
    expect(d.offer("acme/ft", sha(2), ["acme/a"]).skipped).toEqual([
      { repo: "acme/a", reason: "shutting down" },
    ]);
    expect(d.pendingCount).toBe(0);
  });
});
