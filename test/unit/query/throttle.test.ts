import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { BusyGuard, RateLimit } from "../../../src/sources/query/throttle.js";

describe("gentle on the legacy database", () => {
  it("paces rows to maxRowsPerSecond and keeps a page to about a second's worth", async () => {
    const rate = new RateLimit(2000);
    expect(rate.pageLimit(10_000)).toBe(2000);
    const signal = new AbortController().signal;
    const t0 = Date.now();
    await rate.take(200, signal);
    await rate.take(200, signal);
    await rate.take(200, signal);
    // 600 rows at 2000/s: the third page may start 200 ms after the first
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(new RateLimit(0).pageLimit(10_000)).toBe(10_000);
  });

  it("stops waiting when the connector stops", async () => {
    const rate = new RateLimit(1);
    const ac = new AbortController();
    await rate.take(1, ac.signal);
    const waiting = rate.take(100, ac.signal);
    const t0 = Date.now();
    ac.abort();
    await waiting;
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it("pauses reads while more statements run than allowed, asks again after each pause, else at most once a second", async () => {
    const answers = [9, 9, 2];
    let asked = 0;
    const guard = new BusyGuard(4, 50, async () => {
      asked++;
      return answers.shift() ?? 0;
    }, pino({ level: "silent" }));
    expect(await guard.paused()).toBe(true);
    expect(guard.status().busy).toBe(true);
    expect(await guard.paused(), "within the pause").toBe(true);
    await new Promise((r) => setTimeout(r, 60));
    expect(await guard.paused(), "still busy after the pause").toBe(true);
    await new Promise((r) => setTimeout(r, 60));
    expect(await guard.paused(), "no longer busy").toBe(false);
    expect(asked).toBe(3);
    expect(guard.status().busy).toBe(false);
    expect(await guard.paused(), "not asked again within a second").toBe(false);
    expect(asked).toBe(3);
    expect(await new BusyGuard(0, 50, () => Promise.reject(new Error("never asked")), pino({ level: "silent" })).paused()).toBe(false);
  });
});
