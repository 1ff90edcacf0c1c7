/** Progress output: bytes read, throughput and time left, besides the tensor count. */
import { describe, expect, it } from "vitest";
import { progressReporter } from "../../src/cli/progress.js";
import { Throughput, formatEta, formatRate } from "../../src/cli/throughput.js";

function fakeStream(): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = { isTTY: false, write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, text: () => chunks.join("") };
}

describe("Throughput", () => {
  it("measures the rate over the last seconds and the time left at that rate", () => {
    let now = 0;
    const t = new Throughput(() => now);
    expect(t.rate).toBeUndefined();
    t.add(0);
    now = 1000;
    t.add(50e6);
    expect(t.rate).toBe(50e6);
    expect(t.secondsLeft(200e6)).toBe(3);
    // Older samples leave the 5 s window: the rate follows the link as it changes.
    now = 7000;
    t.add(60e6);
    now = 8000;
    t.add(70e6);
    expect(t.rate).toBe(10e6);
  });

  it("formats rates and times for people", () => {
    expect(formatRate(undefined)).toBe("– MB/s");
    expect(formatRate(85.04e6)).toBe("85.0 MB/s");
    expect(formatEta(undefined)).toBe("–");
    expect(formatEta(42.4)).toBe("42 s");
    expect(formatEta(185)).toBe("3 min 05 s");
    expect(formatEta(3720)).toBe("1 h 02 min");
  });
});

describe("progressReporter", () => {
  it("logs bytes read, MB/s and ETA with the tensor count when not on a terminal", () => {
    const { stream, text } = fakeStream();
    let now = 0;
    const report = progressReporter(stream, false, () => now);
    report({ type: "start", tensors: 2, inputBytes: 200e6, outputBytes: 100e6 });
    report({ type: "read", bytes: 0, total: 200e6 });
    now = 2000;
    report({ type: "read", bytes: 100e6, total: 200e6 });
    report({ type: "tensor", index: 1, total: 2, name: "a", outputBytes: 50e6 });
    expect(text()).toBe("merged 1/2 tensors, 100.0 MB of 200.0 MB read, 50.0 MB/s, ETA 2 s\n");
  });

  it("prints warnings even when quiet, and nothing else", () => {
    const { stream, text } = fakeStream();
    const report = progressReporter(stream, true);
    report({ type: "read", bytes: 1, total: 2 });
    report({ type: "warning", message: "careful" });
    expect(text()).toBe("warning: careful\n");
  });
});
