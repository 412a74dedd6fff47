import { describe, expect, it } from "vitest";
import { Metrics } from "../../../src/runtime/metrics.js";

async function retryingSeconds(metrics: Metrics, connector: string): Promise<number | undefined> {
  const { values } = await metrics.retryingSeconds.get();
  return values.find((v) => v.labels.connector === connector)?.value;
}

describe("metrics of a connector's retrying time", () => {
  it("shows the series at the first failure, counts while retrying up to each scrape, and stops once it runs", async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.setState("db", "running");
    expect(await retryingSeconds(metrics, "db")).toBeUndefined();
    metrics.setState("db", "retrying");
    expect(await retryingSeconds(metrics, "db")).toBeGreaterThanOrEqual(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const during = (await retryingSeconds(metrics, "db"))!;
    expect(during).toBeGreaterThan(0);
    metrics.setState("db", "running");
    const after = (await retryingSeconds(metrics, "db"))!;
    expect(after).toBeGreaterThanOrEqual(during);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await retryingSeconds(metrics, "db")).toBe(after);
  });

  it("keeps the count of a connector that moved away, and counts no more for it", async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.setState("db", "retrying");
    await new Promise((resolve) => setTimeout(resolve, 20));
    metrics.forget("db");
    const kept = (await retryingSeconds(metrics, "db"))!;
    expect(kept).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await retryingSeconds(metrics, "db")).toBe(kept);
  });
});

describe("metrics of a source's distance from the server's log", () => {
  it("sets the byte gauges from a detail without touching the seconds, and drops them when the connector leaves", async () => {
    const metrics = new Metrics({ processMetrics: false });
    const m = metrics.forConnector("pg");
    m.lagSeconds(3);
    m.lagSeconds(null, { bytesBehind: 100, retainedBytes: 4096 });
    const value = async (gauge: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> }) =>
      (await gauge.get()).values.find((v) => v.labels.connector === "pg")?.value;
    expect(await value(metrics.lag)).toBe(3);
    expect(await value(metrics.lagBytes)).toBe(100);
    expect(await value(metrics.retainedBytes)).toBe(4096);
    expect(metrics.view("pg").stream).toMatchObject({ secondsBehind: 3, bytesBehind: 100, retainedBytes: 4096 });
    metrics.forget("pg");
    expect(await value(metrics.lagBytes)).toBeUndefined();
    expect(await value(metrics.retainedBytes)).toBeUndefined();
  });
});
