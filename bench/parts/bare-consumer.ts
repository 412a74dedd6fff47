/**
 * The bare consumer: kafkajs reading a topic read_committed from its start, as a sink's consumer
 * does (the same fetch size), doing nothing with the records: what reading them costs before any
 * Avro, any statement or any offset of ours.
 */
import { FETCH_BYTES } from "../../src/runtime/pipeline/sink-pipeline.js";
import { uniqueName } from "../../test/harness/util.js";
import { quietKafka } from "./bare-producer.js";
import { timed, type Ceiling } from "./timed.js";

/** Reads `records` records of `topic` from its start; the clock runs from the consumer's first batch, and counts the records after it. */
export async function bareConsumer(brokers: string[], topic: string, records: number): Promise<Ceiling> {
  const consumer = quietKafka(brokers).consumer({ groupId: uniqueName("bench_bare_consumer"), readUncommitted: false, maxBytesPerPartition: FETCH_BYTES, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let read = 0;
    let first: (() => void) | undefined;
    const started = new Promise<void>((resolve) => (first = resolve));
    let done: (() => void) | undefined;
    const all = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      autoCommit: false,
      eachBatch: async (payload) => {
        first?.();
        read += payload.batch.messages.length;
        payload.resolveOffset(payload.batch.lastOffset());
        if (read >= records) done?.();
      },
    });
    await started;
    return await timed(records - read, () => all);
  } finally {
    await consumer.disconnect();
  }
}
