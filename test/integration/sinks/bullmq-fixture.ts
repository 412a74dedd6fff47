import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type { SinkRecord } from "../../../src/runtime/connector.js";
import { bullmqSinkSpec } from "../../../src/sinks/bullmq/index.js";
import { harness, uniqueName } from "../../harness/index.js";
import type { SinkHarness } from "../../acceptance/sink-suite.js";
import { asSinkRecords, changeEvent, orderRow, ordersStream } from "./support.js";

/** A queue under a prefix of its own, and what it holds. */
export function testQueue(): { prefix: string; name: string; ids(): Promise<string[]>; jobs: Queue; close(): Promise<void> } {
  const prefix = uniqueName("bq");
  const name = "events";
  const connection = new Redis(harness().redis.url, { maxRetriesPerRequest: null });
  const jobs = new Queue(name, { connection, prefix });
  return {
    prefix,
    name,
    jobs,
    ids: async () => (await jobs.getJobs(["waiting", "active", "delayed", "completed", "failed", "prioritized"])).map((j) => j.id!),
    close: async () => {
      await jobs.obliterate({ force: true });
      await jobs.close();
      await connection.quit();
    },
  };
}

export function bullmqSinkSuiteHarness(): SinkHarness {
  return {
    name: "bullmq",
    spec: bullmqSinkSpec,
    fixture: async () => {
      const queue = testQueue();
      const name = uniqueName("bq_sink");
      const topic = `${name}.shop.orders`;
      const stream = ordersStream(topic);
      return {
        topic,
        config: bullmqSinkSpec.config.parse({ name, type: "bullmq", redis: harness().redis.url, topics: [topic], queue: queue.name, prefix: queue.prefix, offsetsKey: queue.prefix }),
        records: (from: number, n: number): SinkRecord[] => asSinkRecords(Array.from({ length: n }, (_, i) => changeEvent(stream, "orders", "c", null, orderRow(from + i))), from),
        stored: () => queue.ids(),
        cleanup: () => queue.close(),
      };
    },
  };
}
