import { describe, expect, it } from "vitest";
import { readTopic, uniqueName, waitFor } from "../../harness/index.js";
import { harness } from "../../harness/env.js";
import { startDaemon } from "../../support/daemon.js";
import { committedPosition, generatorIds } from "../../support/kafka.js";

describe("liberator run: graceful shutdown", () => {
  it("exits 0 within the grace period on SIGTERM, and the committed position matches the last record consumers see", async () => {
    const name = uniqueName("shutdown");
    const topic = `${name}.events`;
    const daemon = await startDaemon({
      connectors: [{ name, type: "generator", topic, ratePerSecond: 5000 }],
      root: { shutdown: { gracePeriodMs: 5000 } },
    });
    await daemon.waitReady();
    await waitFor(async () => ((await daemon.status(name))?.records ?? 0) > 2000, { timeoutMs: 30_000, message: "2000 records" });

    const end = await daemon.stop("SIGTERM");
    expect(end.code, daemon.output()).toBe(0);
    expect(end.ms).toBeLessThan(5000);
    expect(daemon.output()).toMatch(/"msg":"stopped"/);

    const committed = (await committedPosition<{ seq: number }>(name))!;

    const records = await readTopic(harness().kafka.brokers, topic);
    const ids = generatorIds(records);
    expect(ids.length).toBe(committed.seq);
    expect(ids[ids.length - 1]).toBe(committed.seq);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

