import { Kafka, type IHeaders } from "kafkajs";
import { kafkaClientConfig, type KafkaConnection } from "./kafka.js";
import { uniqueName } from "./util.js";

export interface TopicRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  timestamp: string;
}

export interface ReadTopicOptions {
  /** Give up (with an error saying how far the read got) after this long. Default 30 s. */
  timeoutMs?: number;
  /**
   * Keep reading until this many records (or until this returns true), re-reading the end
   * offsets meanwhile: for a producer that is still writing. Without it the read stops at the
   * end offsets the topic had when the read began.
   */
  expect?: number | ((records: TopicRecord[]) => boolean);
}

const compareOffsets = (a: TopicRecord, b: TopicRecord) =>
  a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : BigInt(a.offset) > BigInt(b.offset) ? 1 : 0);

/**
 * Every committed record of a topic, as a `read_committed` consumer sees it, in partition and
 * offset order.
 *
 * A partition is read to the end when the consumer has passed the offset before the end offset
 * that ListOffsets gives under READ_COMMITTED (the last stable offset). After a transaction that
 * offset is a commit marker, which no message carries: kafkajs reports it only as the
 * `lastOffset` of the END_BATCH_PROCESS event (a batch of nothing but markers is "empty due to
 * filtering"), so progress is tracked from that event rather than from messages.
 */
export async function readTopic(
  brokers: string[] | KafkaConnection,
  topic: string,
  options: ReadTopicOptions = {},
): Promise<TopicRecord[]> {
  const connection: KafkaConnection = Array.isArray(brokers) ? { brokers } : brokers;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const expect = options.expect;
  const enough =
    expect === undefined
      ? () => true
      : typeof expect === "number"
        ? (records: TopicRecord[]) => records.length >= expect
        : expect;

  const kafka = new Kafka(kafkaClientConfig(connection, "liberator-harness-reader"));
  // no retries of its own: the loops below retry until the deadline, which kafkajs' backoff would overshoot
  const admin = kafka.admin({ retry: { retries: 0 } });
  const groupId = uniqueName("harness_read");
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, readUncommitted: false, allowAutoTopicCreation: false });
  const records: TopicRecord[] = [];
  /** Highest offset (message or marker) the consumer has passed, per partition. */
  const reached = new Map<number, bigint>();
  const pass = (partition: number, offset: string) => {
    const value = BigInt(offset);
    if (value > (reached.get(partition) ?? -1n)) reached.set(partition, value);
  };
  let crash: Error | undefined;

  const endOffsets = async () => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }));
  };
  const done = (ends: Awaited<ReturnType<typeof endOffsets>>) =>
    ends.every(({ partition, low, high }) => high <= low || (reached.get(partition) ?? -1n) >= high - 1n) && enough(records);

  const deadline = Date.now() + timeoutMs;
  await admin.connect();
  try {
    // the topic may not exist yet when the test starts reading: a connector creates it
    let ends: Awaited<ReturnType<typeof endOffsets>> | undefined;
    while (!ends) {
      try {
        ends = await endOffsets();
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(`readTopic(${topic}): no such topic after ${timeoutMs} ms (${(error as Error).message})`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    consumer.on(consumer.events.END_BATCH_PROCESS, (event) => pass(event.payload.partition, event.payload.lastOffset));
    consumer.on(consumer.events.CRASH, (event) => {
      crash = event.payload.error;
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          records.push({
            topic,
            partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            headers: message.headers ?? {},
            timestamp: message.timestamp,
          });
          pass(partition, message.offset);
        },
      });
      let lastRefresh = Date.now();
      while (!done(ends)) {
        if (crash) throw new Error(`readTopic(${topic}): the consumer crashed: ${crash.message}`, { cause: crash });
        if (Date.now() > deadline) {
          const progress = ends.map((e) => `p${e.partition} at ${reached.get(e.partition) ?? "-"} of end ${e.high}`).join(", ");
          throw new Error(`readTopic(${topic}): ${records.length} records after ${timeoutMs} ms (${progress || "no partitions"})`);
        }
        // a producer may still be writing what `expect` waits for
        if (expect !== undefined && Date.now() - lastRefresh > 250) {
          ends = await endOffsets().catch(() => ends!);
          lastRefresh = Date.now();
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      await consumer.disconnect();
    }
    // a throwaway group per read: leave nothing behind that a test listing groups would see
    await admin.deleteGroups([groupId]).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
  return records.sort(compareOffsets);
}
