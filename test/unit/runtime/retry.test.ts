import { describe, expect, it } from "vitest";
import { ConnectionError, DataError } from "../../../src/runtime/errors.js";
import { backoffDelay, retry } from "../../../src/runtime/retry.js";

const policy = { retries: 5, initialDelayMs: 100, maxDelayMs: 1000, factor: 2 };

describe("retry", () => {
  it("grows the delay exponentially, jittered within [base/2, base], and caps it", () => {
    expect(backoffDelay(0, policy, () => 0)).toBe(50);
    expect(backoffDelay(0, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 1)).toBe(800);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
    expect(backoffDelay(10, policy, () => 0)).toBe(500);
  });

  it("keeps every delay of a long outage between half the capped base and the cap", () => {
    const connector = { retries: Infinity, initialDelayMs: 500, maxDelayMs: 10_000, factor: 2 };
    for (let attempt = 0; attempt < 200; attempt++) {
      const base = Math.min(connector.maxDelayMs, connector.initialDelayMs * 2 ** attempt);
      const d = backoffDelay(attempt, connector);
      expect(d).toBeGreaterThanOrEqual(base / 2);
      expect(d).toBeLessThanOrEqual(connector.maxDelayMs);
    }
    // jitter: connectors failing together do not retry together
    const spread = new Set(Array.from({ length: 20 }, () => backoffDelay(6, connector)));
    expect(spread.size).toBeGreaterThan(1);
  });

  it("retries retriable errors until success", async () => {
    let calls = 0;
    const retried: number[] = [];
    const result = await retry(
      async () => {
        if (++calls < 3) throw new ConnectionError("down");
        return "up";
      },
      { policy: { initialDelayMs: 1, maxDelayMs: 2 }, onRetry: (_e, attempt) => retried.push(attempt) },
    );
    expect(result).toBe("up");
    expect(retried).toEqual([1, 2]);
  });

  it("does not retry a non-retriable error", async () => {
    let calls = 0;
    await expect(
      retry(async () => {
        calls++;
        throw new DataError("SINK_ROW_REFUSED", "bad record");
      }),
    ).rejects.toThrow("bad record");
    expect(calls).toBe(1);
  });

  it("treats ECONNRESET from a driver as retriable and gives up after the retries", async () => {
    let calls = 0;
    const err = await retry(
      async () => {
        calls++;
        throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      },
      { policy: { retries: 2, initialDelayMs: 1, maxDelayMs: 1 } },
    ).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(err).toBeInstanceOf(ConnectionError);
  });

  it("stops waiting when aborted", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const t0 = Date.now();
    await expect(
      retry(async () => Promise.reject(new ConnectionError("down")), { signal: ac.signal, policy: { initialDelayMs: 10_000, maxDelayMs: 10_000 } }),
    ).rejects.toThrow("down");
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
