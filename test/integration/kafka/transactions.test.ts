import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FencedError } from "../../../src/runtime/errors.js";
import { ensureTopics } from "../../../src/runtime/kafka/admin.js";
import { TransactionalProducer, type OutgoingMessage } from "../../../src/runtime/kafka/producer.js";
import { SourceOffsetStore } from "../../../src/runtime/offsets/source-offsets.js";
import { readTopic, uniqueName } from "../../harness/index.js";
import { harness } from "../../harness/env.js";
import { silentLog, testKafka } from "../../support/kafka.js";

const log = silentLog;

const record = (topic: string, i: number, size = 10): OutgoingMessage => ({
  topic,
  key: Buffer.from(`k${i}`),
  value: Buffer.alloc(size, i),
});

describe("Kafka transactions: records and positions together", () => {
  let store: SourceOffsetStore;
  const kafka = testKafka;

  beforeAll(async () => {
    store = await SourceOffsetStore.open(kafka(), log, 1);
  });
  afterAll(async () => {
    await store.close();
  });

  async function producerFor(connector: string) {
    const producer = new TransactionalProducer(kafka(), {
      transactionalId: `liberator-${connector}`,
      connector,
      transactionTimeoutMs: 60_000,
    });
    await producer.connect();
    return producer;
  }

  it("makes records and the position after them visible together to a read_committed consumer", async () => {
    const connector = uniqueName("tx-commit");
    const topic = `${connector}.events`;
    await ensureTopics(kafka(), [{ topic, partitions: 2 }]);
    const producer = await producerFor(connector);
    await producer.commit([record(topic, 1), record(topic, 2), record(topic, 3), store.message(connector, { seq: 3 })]);
    await producer.disconnect();

    const seen = await readTopic(harness().kafka.brokers, topic);
    expect(seen.map((m) => m.key?.toString()).sort()).toEqual(["k1", "k2", "k3"]);
    expect((await store.read(connector))?.position).toEqual({ seq: 3 });
  });

  it("leaves neither records nor position when the transaction fails", async () => {
    const connector = uniqueName("tx-abort");
    const topic = `${connector}.events`;
    await ensureTopics(kafka(), [{ topic }]);
    const producer = await producerFor(connector);
    await producer.commit([record(topic, 1), store.message(connector, { seq: 1 })]);
    // 2 MB is over the broker's message.max.bytes: the broker refuses it and the transaction aborts
    await expect(
      producer.commit([record(topic, 2), record(topic, 3, 2 * 1024 * 1024), store.message(connector, { seq: 3 })]),
    ).rejects.toThrow(/Kafka transaction failed/);
    await producer.commit([record(topic, 4), store.message(connector, { seq: 4 })]);
    await producer.disconnect();

    const seen = await readTopic(harness().kafka.brokers, topic);
    expect(seen.map((m) => m.key?.toString())).toEqual(["k1", "k4"]);
    expect((await store.read(connector))?.position).toEqual({ seq: 4 });
  });

  it("fences the first producer when a second one starts with the same transactional id", async () => {
    const connector = uniqueName("tx-fence");
    const topic = `${connector}.events`;
    await ensureTopics(kafka(), [{ topic }]);
    const first = await producerFor(connector);
    await first.commit([record(topic, 1), store.message(connector, { seq: 1 })]);
    const second = await producerFor(connector);
    await second.commit([record(topic, 2), store.message(connector, { seq: 2 })]);

    const err = await first.commit([record(topic, 3), store.message(connector, { seq: 3 })]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FencedError);
    expect((err as FencedError).retriable).toBe(false);
    expect((err as FencedError).message).toMatch(/transactional id "liberator-tx_fence[^"]*" was fenced: another instance of this connector took over/);
    await Promise.all([first.disconnect(), second.disconnect()]);

    const seen = await readTopic(harness().kafka.brokers, topic);
    expect(seen.map((m) => m.key?.toString())).toEqual(["k1", "k2"]);
    expect((await store.read(connector))?.position).toEqual({ seq: 2 });
  });
});
