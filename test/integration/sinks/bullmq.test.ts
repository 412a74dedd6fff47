import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChangeRecord, Sink } from "../../../src/runtime/connector.js";
import { bullmqSinkSpec } from "../../../src/sinks/bullmq/index.js";
import { harness, uniqueName, waitFor } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { testQueue } from "./bullmq-fixture.js";
import { ChangeProducer, asSinkRecords, changeEvent, killRepeatedly, orderRow, ordersStream, sinkContext } from "./support.js";

describe("bullmq sink", () => {
  const queues: ReturnType<typeof testQueue>[] = [];
  const sinks: Sink[] = [];
  afterAll(async () => {
    for (const s of sinks) await s.close();
    for (const q of queues) await q.close();
  });

  function open(queue: ReturnType<typeof testQueue>, name: string, overrides: Record<string, unknown> = {}): Sink {
    const config = bullmqSinkSpec.config.parse({ name, type: "bullmq", redis: harness().redis.url, topics: ["t"], queue: queue.name, prefix: queue.prefix, offsetsKey: queue.prefix, ...overrides });
    const sink = bullmqSinkSpec.create(config, sinkContext(name));
    sinks.push(sink);
    return sink;
  }

  it("adds no job when a batch is delivered again: each record is one job, by its event id or its topic-partition-offset", async () => {
    const queue = testQueue();
    queues.push(queue);
    const name = uniqueName("bq");
    const stream = ordersStream(`${name}.shop.orders`);
    const records: ChangeRecord[] = [1, 2, 3].map((i) => changeEvent(stream, "orders", "c", null, orderRow(i)));
    records[0]!.headers = { id: "order-1:created", type: "OrderCreated" };
    const batch = { records: asSinkRecords(records), offsets: [{ topic: stream.topic, partition: 0, offset: "3" }] };

    const first = open(queue, name, { jobName: "{table}.{op}" });
    await first.open();
    await first.claim([{ topic: stream.topic, partition: 0 }]);
    await first.write(batch);
    // a crash before the offsets were stored: the next instance gets the same records again
    const second = open(queue, name, { jobName: "{table}.{op}" });
    await second.open();
    await second.claim([{ topic: stream.topic, partition: 0 }]);
    await second.write(batch);

    expect((await queue.ids()).sort()).toEqual(["evt-order-1%3Acreated", `kafka-${stream.topic}-0-1`, `kafka-${stream.topic}-0-2`].sort());
    const job = await queue.jobs.getJob("evt-order-1%3Acreated");
    expect(job!.name).toBe("orders.c");
    // the event as JSON: longs and decimals as exact strings, bytes as base64
    const after = (job!.data as { after: Record<string, unknown> }).after;
    expect(after).toMatchObject({ id: "1", price: orderRow(1).price, created: orderRow(1).created, data: (orderRow(1).data as Buffer).toString("base64") });
  });

  describe("under liberator run", () => {
    let producer: ChangeProducer;
    const daemons: Daemon[] = [];
    beforeAll(async () => {
      producer = await ChangeProducer.open();
    });
    afterAll(async () => {
      for (const d of daemons) if (d.child.exitCode === null && d.child.signalCode === null) await d.stop("SIGKILL");
      await producer.close();
    });

    it("ends with one job per event after SIGKILLs mid-stream", async () => {
      const queue = testQueue();
      queues.push(queue);
      const name = uniqueName("bq_run");
      const stream = ordersStream(`${name}.shop.orders`);
      await producer.createTopics(stream.topic);
      const connector = { name, type: "bullmq", redis: harness().redis.url, topics: [stream.topic], queue: queue.name, prefix: queue.prefix, batch: { maxRecords: 100 } };
      let produced = 0;
      let producing = true;
      const writer = (async () => {
        while (producing) {
          const records = Array.from({ length: 20 }, () => {
            const r = changeEvent(stream, "orders", "c", null, orderRow(++produced));
            return { ...r, headers: { id: `event-${produced}` } };
          });
          await producer.send(records);
          await sleep(30);
        }
      })();
      let d = await startDaemon({ connectors: [connector] });
      daemons.push(d);
      try {
        d = await killRepeatedly(d, 2, async () => (await queue.ids()).length, (next) => daemons.push(next));
      } finally {
        producing = false;
        await writer;
      }
      await waitFor(async () => (await queue.ids()).length >= produced, { timeoutMs: 30_000, message: `${produced} jobs` });
      await sleep(500);
      const ids = await queue.ids();
      expect(ids.length).toBe(produced);
      expect(new Set(ids)).toEqual(new Set(Array.from({ length: produced }, (_, i) => `evt-event-${i + 1}`)));
      await d.stop();
    }, 180_000);
  });
});
