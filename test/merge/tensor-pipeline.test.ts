import { describe, expect, it } from "vitest";
import type { BufferSet } from "../../src/merge/read-buffers.js";
import { runTensorPipeline } from "../../src/merge/tensor-pipeline.js";

const tick = (ms = 1) => new Promise((resolve) => setTimeout(resolve, ms));

/** A pipeline whose steps log when they start and end, with per-step delays. */
function logged(count: number, delays: { read?: number; merge?: number; write?: number } = {}) {
  const log: string[] = [];
  const sets: BufferSet[] = [];
  const written: number[] = [];
  const step =
    <T>(name: string, ms: number | undefined, body: (i: number) => T) =>
    async (i: number) => {
      log.push(`${name}${i}+`);
      await tick(ms);
      log.push(`${name}${i}-`);
      return body(i);
    };
  return {
    log,
    sets,
    written,
    steps: {
      count,
      read: (i: number, set: BufferSet) => {
        sets.push(set);
        return step("r", delays.read, (j) => j * 10)(i);
      },
      merge: (i: number, loaded: number) => step("m", delays.merge, () => new Uint8Array([loaded]))(i),
      write: (i: number, bytes: Uint8Array) => step("w", delays.write, () => void written.push(bytes[0]!))(i),
    },
  };
}

const at = (log: string[], event: string) => {
  const index = log.indexOf(event);
  expect(index, event).toBeGreaterThanOrEqual(0);
  return index;
};

describe("runTensorPipeline", () => {
  it("writes every result in order, one at a time, reading into the buffer sets in turn", async () => {
    const { steps, written, sets, log } = logged(7, { write: 3 });
    await runTensorPipeline(steps);
    expect(written).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(sets).toEqual([0, 1, 2, 0, 1, 2, 0]);
    for (let i = 0; i + 1 < 7; i++) expect(at(log, `w${i}-`)).toBeLessThan(at(log, `w${i + 1}+`));
  });

  it("reads ahead while merging, and writes while the next merges", async () => {
    const { steps, log } = logged(4, { merge: 20, write: 5, read: 1 });
    await runTensorPipeline(steps);
    for (let i = 0; i + 1 < 4; i++) {
      expect(at(log, `r${i + 1}+`)).toBeLessThan(at(log, `m${i}-`)); // read i+1 during merge i
      expect(at(log, `m${i + 1}+`)).toBeLessThan(at(log, `w${i}-`)); // write i during merge i+1
    }
  });

  it("never reads into a set before the write of the unit that held it has finished", async () => {
    const { steps, log } = logged(8, { merge: 1, write: 15, read: 1 });
    await runTensorPipeline(steps);
    for (let i = 0; i + 3 < 8; i++) {
      expect(at(log, `w${i}-`)).toBeLessThan(at(log, `r${i + 3}+`)); // set reuse
      expect(at(log, `w${i}-`)).toBeLessThan(at(log, `m${i + 3}+`)); // a merge's own buffers
    }
  });

  it("keeps merging while a write is held up", async () => {
    const { steps, log } = logged(4, { merge: 5, read: 1 });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const fallback = setTimeout(() => release(), 300); // were merges to wait for it, they would
    const slowFirstWrite = {
      ...steps,
      write: async (i: number, bytes: Uint8Array) => {
        if (i === 0) await held;
        return steps.write(i, bytes);
      },
      merge: async (i: number, loaded: number) => {
        if (i === 2) setTimeout(release, 30);
        return steps.merge(i, loaded);
      },
    };
    await runTensorPipeline(slowFirstWrite);
    clearTimeout(fallback);
    // Units 1 and 2 merged while unit 0's write waited.
    expect(at(log, "m2-")).toBeLessThan(at(log, "w0+"));
  });

  it("reads the next unit while the previous one is still being written", async () => {
    const { steps, log } = logged(5, { merge: 2, write: 20, read: 1 });
    await runTensorPipeline(steps);
    for (let i = 1; i + 1 < 5; i++) expect(at(log, `r${i + 1}+`)).toBeLessThan(at(log, `w${i - 1}-`));
  });

  it("does nothing for no tensors", async () => {
    const { steps, log } = logged(0);
    await runTensorPipeline(steps);
    expect(log).toEqual([]);
  });

  it("rejects with the first failure, once the reads and writes in flight have settled", async () => {
    const { steps, log } = logged(5, { read: 10 });
    const failing = {
      ...steps,
      merge: async (i: number, loaded: number) => {
        if (i === 1) throw new Error("merge failed");
        return steps.merge(i, loaded);
      },
    };
    await expect(runTensorPipeline(failing)).rejects.toThrow("merge failed");
    // The read of tensor 2 had started while tensor 1 merged: it finished before the rejection.
    expect(log).toContain("r2-");
    expect(log.filter((e) => e.startsWith("w")).length % 2).toBe(0);
  });

  it("rejects when a read or a write fails, with nothing left running", async () => {
    for (const failing of ["read", "write"] as const) {
      const { steps, log } = logged(6, { merge: 3, write: 2 });
      const broken = {
        ...steps,
        [failing]: async (i: number, arg: never) => {
          if (i === 2) throw new Error(`${failing} failed`);
          return (steps[failing] as (i: number, arg: never) => Promise<unknown>)(i, arg);
        },
      };
      await expect(runTensorPipeline(broken as typeof steps)).rejects.toThrow(`${failing} failed`);
      const settledLog = [...log];
      await tick(20);
      expect(log).toEqual(settledLog); // no step started or ended after the rejection
      for (const step of ["r", "m", "w"]) {
        const started = log.filter((e) => e.startsWith(step) && e.endsWith("+")).length;
        expect(log.filter((e) => e.startsWith(step) && e.endsWith("-")).length).toBe(started);
      }
    }
  });

  it("stops at an aborted signal", async () => {
    const controller = new AbortController();
    const { steps, written } = logged(5);
    const stopping = {
      ...steps,
      signal: controller.signal,
      write: async (i: number, bytes: Uint8Array) => {
        await steps.write(i, bytes);
        if (i === 1) controller.abort(new Error("stop"));
      },
    };
    await expect(runTensorPipeline(stopping)).rejects.toThrow("stop");
    expect(written.length).toBeLessThan(5);
  });
});
