import { describe, expect, it } from "vitest";
import { RateLimiter } from "../../src/bot/rate-limiter.js";

describe("RateLimiter", () => {
  it("allows a burst, then one request per refill interval, per sender", () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 6, burst: 2 }, () => now);
    expect([limiter.take("a"), limiter.take("a")]).toEqual([0, 0]);
    expect(limiter.take("a")).toBe(10); // 6 per minute: one every 10 s
    expect(limiter.take("b")).toBe(0);
    now += 10_000;
    expect(limiter.take("a")).toBe(0);
    expect(limiter.take("a")).toBeGreaterThan(0);
    now += 60_000;
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a")].map((w) => w === 0)).toEqual([
      true,
      true,
      false,
    ]);
  });
});
