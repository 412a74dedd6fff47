import { describe, expect, it } from "vitest";
import type { SinkRecord } from "../../../src/runtime/connector.js";
import { bullmqSinkConfig } from "../../../src/sinks/bullmq/config.js";
import { jobIdOf, jobOf } from "../../../src/sinks/bullmq/jobs.js";

const record = (over: Partial<SinkRecord> = {}): SinkRecord => ({
  topic: "app.shop.orders",
  partition: 2,
  offset: "41",
  key: { id: 7n },
  keySchema: null,
  value: { before: null, after: { id: 7n, price: "1.50", data: Buffer.from([1, 2]) }, op: "u", source: { table: "orders" } },
  valueSchema: null,
  headers: {},
  timestamp: 1_700_000_000_000,
  ...over,
});
const config = (over: Record<string, unknown> = {}) => bullmqSinkConfig.parse({ name: "b", type: "bullmq", redis: "redis://localhost:6379", topics: ["app.shop.orders"], queue: "q", ...over });

describe("BullMQ jobs from records", () => {
  it("takes the job id from the event id header, prefixed and with ':' escaped, else from topic-partition-offset", () => {
    expect(jobIdOf(record({ headers: { id: Buffer.from("42") } }))).toBe("evt-42");
    expect(jobIdOf(record({ headers: { id: "a:b%c" } }))).toBe("evt-a%3Ab%25c");
    expect(jobIdOf(record())).toBe("kafka-app.shop.orders-2-41");
  });
  it("fills queue and name patterns, and carries the value as exact JSON", () => {
    const job = jobOf(record({ headers: { type: "OrderPaid" } }), config({ queue: "{table}-jobs", jobName: "{type}/{op}" }));
    expect(job).toEqual({
      queue: "orders-jobs",
      name: "OrderPaid/u",
      jobId: "kafka-app.shop.orders-2-41",
      data: { before: null, after: { id: "7", price: "1.50", data: "AQI=" }, op: "u", source: { table: "orders" } },
    });
    expect(JSON.parse(JSON.stringify(job.data))).toEqual(job.data);
  });
  it("carries the whole record when data: record", () => {
    expect(jobOf(record(), config({ data: "record" })).data).toMatchObject({ topic: "app.shop.orders", partition: 2, offset: "41", key: { id: "7" }, timestamp: 1_700_000_000_000 });
  });
});
