/*
 * What a connector taken over by another worker reads as its position: the last one committed,
 * whatever other connectors have in flight on `_liberator_offsets` at that moment.
 */
import { Partitioners, type Producer } from "kafkajs";
import { afterEach, describe, expect, it } from "vitest";
import { TransactionalProducer } from "../../../src/runtime/kafka/producer.js";
import { SOURCE_OFFSETS_TOPIC, SourceOffsetStore } from "../../../src/runtime/offsets/source-offsets.js";
import { uniqueName } from "../../harness/index.js";
import { silentLog, testKafka } from "../../support/kafka.js";

/** Another connector's transaction on the offsets topic, left open. */
async function openTransaction(name: string): Promise<{ producer: Producer; end(commit: boolean): Promise<void> }> {
  const producer = testKafka().producer({ transactionalId: `liberator-${name}`, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const tx = await producer.transaction();
  await tx.send({ topic: SOURCE_OFFSETS_TOPIC, messages: [{ key: name, value: JSON.stringify({ connector: name, position: { seq: 1 }, committedAt: new Date().toISOString() }) }] });
  return { producer, end: (commit) => (commit ? tx.commit() : tx.abort()) };
}

describe("positions read at a takeover", () => {
  const closing: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });

  it("sees a position committed while another connector's transaction is still open", async () => {
    const store = await SourceOffsetStore.open(testKafka(), silentLog, 1);
    closing.push(() => store.close());
    const other = await openTransaction(uniqueName("other"));
    closing.push(() => other.producer.disconnect());
    const name = uniqueName("mine");
    const producer = new TransactionalProducer(testKafka(), { transactionalId: `liberator-${name}`, connector: name, transactionTimeoutMs: 60_000 });
    await producer.connect();
    await producer.commit([store.message(name, { seq: 7 })]);
    await producer.disconnect();
    // the other transaction holds the topic's last stable offset below our commit until it ends
    setTimeout(() => void other.end(true), 300);
    expect((await store.read(name))?.position).toEqual({ seq: 7 });
  });

  it("never takes a position from an aborted transaction, even when transactions abort out of the order they began", async () => {
    const store = await SourceOffsetStore.open(testKafka(), silentLog, 1);
    closing.push(() => store.close());
    const name = uniqueName("zombie");
    const zombie = await openTransaction(name); // began first …
    closing.push(() => zombie.producer.disconnect());
    const other = await openTransaction(uniqueName("other")); // … began second
    closing.push(() => other.producer.disconnect());
    await other.end(false); // aborted first
    await zombie.end(false); // aborted second: a reader must still skip the zombie's position
    expect(await store.read(name)).toBeNull();
  });
});
