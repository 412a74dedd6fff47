import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../harness/index.js";
import { expectExactlyOnce, generator, logLines, runningOn, spread, startCluster, waitRunning, type TestCluster } from "./support.js";

const CONNECTORS = ["a", "b", "c", "d", "e", "f"];

describe("cluster mode: three workers sharing six connectors", () => {
  let cluster: TestCluster;
  let names: string[];

  beforeAll(async () => {
    const prefix = `fo${Date.now().toString(36)}`;
    names = CONNECTORS.map((c) => `${prefix}_${c}`);
    cluster = await startCluster({ workers: 3, connectors: names.map((n) => generator(n)) });
  });
  afterAll(() => cluster?.close());

  it("spreads the connectors over the workers, two each", async () => {
    const on = await waitFor(
      async () => {
        const running = await runningOn(cluster.workers[0]!);
        const counts = [...spread(running).values()];
        return running.size === 6 && counts.length === 3 && counts.every((n) => n === 2) ? running : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, message: "2 connectors on each of 3 workers" },
    );
    expect(new Set(on.values())).toEqual(new Set(cluster.ids));
  });

  it("runs a SIGKILLed worker's connectors on the others within 15 s", async () => {
    const victim = cluster.ids[0]!;
    const theirs = [...(await runningOn(cluster.workers[1]!))].filter(([, w]) => w === victim).map(([c]) => c);
    expect(theirs).toHaveLength(2);
    const killedAt = Date.now();
    await cluster.workers[0]!.kill();
    const on = await waitFor(
      async () => {
        const running = await runningOn(cluster.workers[1]!);
        return theirs.every((c) => running.has(c) && running.get(c) !== victim) ? running : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 50, message: `${theirs.join(", ")} running elsewhere after kill -9 of ${victim}` },
    );
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect([...on.values()].filter((w) => w === victim)).toEqual([]);
    for (const c of theirs) expect((await cluster.job(c))?.stalledCounter, `${c} counted one stall`).toBeGreaterThanOrEqual(1);
    // and they settle three each
    await waitFor(async () => {
      const running = await runningOn(cluster.workers[1]!);
      return running.size === 6 && [...spread(running).values()].every((n) => n === 3);
    }, { timeoutMs: 15_000, intervalMs: 200, message: "three connectors on each of the two workers" });
  });

  it("hands a SIGTERMed worker's connectors to the last worker within 1 s, without a stall", async () => {
    const [leaving, staying] = [cluster.workers[1]!, cluster.workers[2]!];
    const theirs = [...(await runningOn(staying))].filter(([, w]) => w === cluster.ids[1]).map(([c]) => c);
    expect(theirs.length).toBeGreaterThan(0);
    const stalls = await Promise.all(theirs.map(async (c) => (await cluster.job(c))!.stalledCounter));
    const signalledAt = Date.now();
    const stopped = leaving.stop("SIGTERM");
    await waitFor(
      () => logLines(staying).filter((l) => l.msg === "running the connector on this worker" && theirs.includes(l.connector!) && Date.parse(l.time) >= signalledAt).length === theirs.length,
      { timeoutMs: 5_000, intervalMs: 10, message: "the last worker took the connectors" },
    );
    expect((await stopped).code).toBe(0);
    // from the moment the leaving worker handles SIGTERM (a starved machine may delay the signal itself)
    const stoppingAt = Date.parse(logLines(leaving).find((l) => l.msg.startsWith("stopping"))!.time);
    const takenAt = Math.max(...logLines(staying).filter((l) => l.msg === "running the connector on this worker" && theirs.includes(l.connector!)).map((l) => Date.parse(l.time)));
    expect(takenAt - stoppingAt, "from SIGTERM to the other worker taking the last of them").toBeLessThan(1000);
    await waitRunning(staying, names, 5_000);
    expect(await Promise.all(theirs.map(async (c) => (await cluster.job(c))!.stalledCounter))).toEqual(stalls);
  });

  it("loses and duplicates no record in any of the six topics", async () => {
    await cluster.close();
    await expectExactlyOnce(...names);
  });
});

describe("cluster mode: a connector handed over for balance", () => {
  let cluster: TestCluster;
  afterAll(() => cluster?.close());

  it("comes straight back when the worker it went to shuts down, though it was handed over a moment ago", async () => {
    const prefix = `hb${Date.now().toString(36)}`;
    const names = [`${prefix}_a`, `${prefix}_b`];
    cluster = await startCluster({ workers: 1, connectors: names.map((n) => generator(n)) });
    const [first] = cluster.workers;
    await waitRunning(first!, names);
    // a second worker joins: the first runs more than its share and hands one connector over
    const second = await cluster.add();
    const on = await waitFor(
      async () => {
        const running = await runningOn(first!);
        return running.size === 2 && spread(running).get(cluster.ids[1]!) === 1 ? running : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, message: "one connector on each worker" },
    );
    const moved = [...on].find(([, w]) => w === cluster.ids[1])![0];
    const signalledAt = Date.now();
    const stopped = second.stop("SIGTERM");
    // the first worker would leave it to others for 3 lock durations (6 s here); there are none left
    await waitFor(
      () => logLines(first!).some((l) => l.msg === "running the connector on this worker" && l.connector === moved && Date.parse(l.time) >= signalledAt),
      { timeoutMs: 3_000, intervalMs: 10, message: `${moved} running on the first worker again` },
    );
    expect((await stopped).code).toBe(0);
    await cluster.close();
    await expectExactlyOnce(...names);
  });
});
