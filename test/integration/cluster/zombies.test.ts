import { afterEach, describe, expect, it } from "vitest";
import { uniqueName, waitFor } from "../../harness/index.js";
import { harness } from "../../harness/env.js";
import type { Daemon } from "../../support/daemon.js";
import { startFreezableProxy, type FreezableProxy } from "./redis-proxy.js";
import { expectExactlyOnce, generator, logLines, runningOn, startCluster, waitRunning, type TestCluster } from "./support.js";

/** When the worker logged that it stopped its copy of the connector (after `since`), and why. */
const stoppedCopy = (daemon: Daemon, connector: string, since: number) =>
  logLines(daemon)
    .filter((l) => l.msg.startsWith("connector stopped on this worker") && l.connector === connector && Date.parse(l.time) >= since)
    .map((l) => ({ at: Date.parse(l.time), reason: l.reason }))[0];

const tookAt = (daemon: Daemon, connector: string, since: number) =>
  logLines(daemon)
    .filter((l) => l.msg === "running the connector on this worker" && l.connector === connector && Date.parse(l.time) >= since)
    .map((l) => Date.parse(l.time))[0];

describe("cluster mode: a worker that lost its connector without knowing it", () => {
  let cluster: TestCluster | undefined;
  let proxies: FreezableProxy[] = [];
  afterEach(async () => {
    await cluster?.close();
    await Promise.all(proxies.map((p) => p.close()));
    cluster = undefined;
    proxies = [];
  });

  /*
   * Each round freezes the worker that runs the connector (SIGSTOP: to BullMQ a dead worker whose
   * lock lapses, the same stall as after kill -9) until the other worker runs it, then lets it go
   * on: a zombie that still has the connector open, and is fenced already.
   */
  it("fails over ten times in a row: each frozen worker, resumed, stops its copy, the job never fails, each record is written once", async () => {
    const name = uniqueName("frozen");
    cluster = await startCluster({ workers: 2, connectors: [generator(name, 100)], cluster: { lockDurationMs: 1500, stalledIntervalMs: 300, requestTimeoutMs: 500 } });
    const c = cluster;
    for (let round = 1; round <= 10; round++) {
      const owner = await waitFor(async () => (await runningOn(c.workers[0]!)).get(name), { timeoutMs: 15_000, message: `round ${round}: the connector running` });
      const frozen = c.workers[c.ids.indexOf(owner)]!;
      const other = c.workers.find((w) => w !== frozen)!;
      process.kill(frozen.child.pid!, "SIGSTOP");
      try {
        await waitFor(async () => (await runningOn(other)).get(name) === c.ids[c.workers.indexOf(other)], {
          timeoutMs: 15_000,
          intervalMs: 50,
          message: `round ${round}: the connector running on the other worker`,
        });
      } finally {
        process.kill(frozen.child.pid!, "SIGCONT");
      }
      const resumedAt = Date.now();
      const stopped = await waitFor(() => stoppedCopy(frozen, name, resumedAt - 500), { timeoutMs: 5_000, message: `round ${round}: the resumed worker stopping its copy` });
      expect(["lease_lost", "fenced"], `round ${round}`).toContain(stopped.reason);
      expect(stopped.at - resumedAt, `round ${round}: stopped after resuming`).toBeLessThan(5000);
      expect(await (await c.job(name))!.getState(), `round ${round}`).toBe("active");
    }
    const job = (await c.job(name))!;
    expect(job.stalledCounter).toBeGreaterThanOrEqual(10);
    expect(job.failedReason ?? null).toBeNull();
    await c.close();
    await expectExactlyOnce(name);
  });

  it("a worker whose Redis connection hangs stops its copy before another worker starts the connector", async () => {
    const name = uniqueName("cutoff");
    // each worker reaches Redis through a proxy of its own, so either can be cut off
    proxies = await Promise.all([startFreezableProxy(harness().redis.url), startFreezableProxy(harness().redis.url)]);
    cluster = await startCluster({ workers: 0, connectors: [generator(name, 100)], cluster: { requestTimeoutMs: 500 } });
    const c = cluster;
    await Promise.all(proxies.map((p) => c.add({ redis: p.url })));
    const owner = c.ids.indexOf((await waitRunning(c.workers[0]!, [name])).get(name)!);
    const [cutOff, other] = [c.workers[owner]!, c.workers[1 - owner]!];
    const frozenAt = Date.now();
    proxies[owner]!.freeze();
    const stopped = await waitFor(() => stoppedCopy(cutOff, name, frozenAt), { timeoutMs: 10_000, message: "the cut-off worker stopping its copy" });
    expect(stopped.reason).toBe("lease_lost");
    const taken = await waitFor(() => tookAt(other, name, frozenAt), { timeoutMs: 15_000, message: "the other worker taking the connector" });
    expect(stopped.at, "the cut-off copy stopped before the other started").toBeLessThan(taken);
    await waitFor(async () => (await other.status(name))?.state === "running", { timeoutMs: 10_000, message: "running on the other worker" });
    proxies[owner]!.thaw();
    await new Promise((r) => setTimeout(r, 1500));
    expect(tookAt(cutOff, name, frozenAt), "the cut-off worker did not take it back").toBeUndefined();
    await c.close();
    await expectExactlyOnce(name);
  });
});
