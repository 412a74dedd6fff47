/*
 * A sql sink handed from worker to worker by SIGTERM while a producer keeps writing: each time the
 * other worker resumes it from the offsets in the target and writes on, and at the end the table
 * holds every produced record once. How long each hand-over took is logged, not asserted: speed is
 * `npm run bench -- handoff`'s business.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChangeRecord } from "../../../src/runtime/connector.js";
import { uniqueName, waitFor } from "../../harness/index.js";
import type { Daemon } from "../../support/daemon.js";
import { ChangeProducer, changeEvent, orderRow, ordersStream, targetDatabase, type TargetDatabase } from "../sinks/support.js";
import { logLines, runningOn, startCluster, type TestCluster } from "./support.js";

const HAND_OVERS = 5;

/** When a worker logged `msg` about the connector, at or after `since`. */
const loggedAt = (daemon: Daemon, msg: string, connector: string | undefined, since: number) =>
  logLines(daemon)
    .filter((l) => l.msg === msg && (connector === undefined || l.connector === connector) && Date.parse(l.time) >= since)
    .map((l) => Date.parse(l.time))[0];

describe("cluster mode: a sql sink handed over by SIGTERM under a running producer", () => {
  let producer: ChangeProducer;
  let db: TargetDatabase;
  let cluster: TestCluster | undefined;

  beforeAll(async () => {
    producer = await ChangeProducer.open();
    db = await targetDatabase("postgres");
  });
  afterAll(async () => {
    await cluster?.close();
    await producer.close();
    await db.drop();
  });

  it(`resumes on the other worker ${HAND_OVERS} times in a row, each time writing on, and ends with every record once`, async () => {
    const name = uniqueName("handoff");
    const topic = `${name}.shop.events`;
    await producer.createTopics(topic);
    // no primary key and plain inserts: a record written twice is a second row
    const stream = ordersStream(topic, { keyless: true });
    let next = 1;
    const events = (n: number): ChangeRecord[] => Array.from({ length: n }, () => changeEvent(stream, "events", "c", null, orderRow(next++)));
    const count = async () => Number((await db.rows(`SELECT count(*) AS n FROM ${name}`).catch(() => [{ n: 0 }]))[0]!.n);

    const connector = { name, type: "sql", dialect: "postgres", connection: db.connection, topics: [topic], table: name, mode: "insert", batch: { maxRecords: 200 } };
    cluster = await startCluster({ workers: 2, connectors: [connector] });
    const c = cluster;

    let produced = 0;
    let producing = true;
    const writer = (async () => {
      while (producing) {
        await producer.send(events(20));
        produced += 20;
        await sleep(20);
      }
    })();

    const times: number[] = [];
    try {
      for (let round = 1; round <= HAND_OVERS; round++) {
        const owner = await waitFor(async () => (await runningOn(c.workers[0]!)).get(name), { timeoutMs: 20_000, message: `round ${round}: the sink running` });
        const i = c.ids.indexOf(owner);
        const [leaving, staying] = [c.workers[i]!, c.workers[1 - i]!];
        const stayingId = c.ids[1 - i]!;
        // it writes under the producer before it is moved
        const before = await count();
        await waitFor(async () => (await count()) > before, { timeoutMs: 30_000, intervalMs: 50, message: `round ${round}: the sink writing on ${owner}` });
        const stalls = (await c.job(name))!.stalledCounter;

        const signalledAt = Date.now();
        const end = await leaving.stop("SIGTERM");
        expect(end.code, `round ${round}: ${owner} exit`).toBe(0);
        // resumed on the other worker, and writing there
        const writingAt = await waitFor(() => loggedAt(staying, "writing: first batch committed", name, signalledAt), {
          timeoutMs: 30_000,
          intervalMs: 20,
          message: `round ${round}: the sink writing on ${stayingId}`,
        });
        expect((await staying.status(name))?.worker).toBe(stayingId);
        const stoppingAt = loggedAt(leaving, "stopping: batches in flight are committed or abandoned, never waited out", undefined, signalledAt)!;
        times.push(writingAt - stoppingAt);
        expect((await c.job(name))!.stalledCounter, `round ${round}: handed over, not stalled`).toBe(stalls);

        // the stopped worker comes back, so the next round has somewhere to hand the sink to
        c.workers[i] = await leaving.restart();
        await c.workers[i].waitReady();
      }
    } finally {
      producing = false;
      await writer;
    }
    console.log(`hand-over of a sql sink, SIGTERM handled → first batch written on the other worker: ${times.join(", ")} ms`);

    await waitFor(async () => (await count()) >= produced, { timeoutMs: 60_000, message: `${produced} rows` });
    await sleep(1000);
    expect(await count()).toBe(produced);
    expect(Number((await db.rows(`SELECT count(DISTINCT id) AS n FROM ${name}`))[0]!.n)).toBe(produced);
    const job = (await c.job(name))!;
    expect(job.failedReason ?? null).toBeNull();
  }, 300_000);
});
