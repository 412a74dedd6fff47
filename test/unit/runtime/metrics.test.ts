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
