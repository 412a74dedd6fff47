/**
 * The bare producer: kafkajs, transactional and idempotent as Liberator's producer, sending the
 * same number of records of the same sizes in transactions of the same size, nothing else.
 */
import { Kafka, logLevel, Partitioners, type Message } from "kafkajs";
import { ensureTopics } from "../../src/runtime/kafka/admin.js";
import { uniqueName } from "../../test/harness/util.js";
import { timed, type Ceiling } from "./timed.js";

export function quietKafka(brokers: string[]): Kafka {
  return new Kafka({ clientId: "bench-ceiling", brokers, logLevel: logLevel.NOTHING });
}

/** As Liberator's TransactionalProducer sets it up (src/runtime/kafka/producer.ts). */
export function transactionalProducer(kafka: Kafka) {
  return kafka.producer({
    transactionalId: uniqueName("bench_bare"),
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { initialRetryTime: 10, retries: 12, maxRetryTime: 5_000 },
  });
}

/** Requests of at most this many bytes, as Liberator cuts them (a broker refuses a produce request past message.max.bytes). */
const MAX_REQUEST_BYTES = 900_000;

export function requests(messages: Message[], keyBytes: number, valueBytes: number): Message[][] {
  const perRequest = Math.max(1, Math.floor(MAX_REQUEST_BYTES / (keyBytes + valueBytes + 64)));
  const out: Message[][] = [];
  for (let i = 0; i < messages.length; i += perRequest) out.push(messages.slice(i, i + perRequest));
  return out;
}

export interface RecordShape {
  records: number;
  keyBytes: number;
  valueBytes: number;
  /** Records per transaction (Liberator's batch.maxRecords, 10,000). */
  perTransaction: number;
}

/** The bare transactional producer on a fresh 1-partition topic, sending records of the shape's sizes in transactions of its size. */
export async function openBareProducer(brokers: string[], shape: Omit<RecordShape, "records">) {
  const kafka = quietKafka(brokers);
  const topic = uniqueName("bench_bare");
  await ensureTopics(kafka, [{ topic, partitions: 1, replicationFactor: 1 }]);
  const producer = transactionalProducer(kafka);
  await producer.connect();
  const key = Buffer.alloc(Math.round(shape.keyBytes), 1);
  const value = Buffer.alloc(Math.round(shape.valueBytes), 2);
  const batch = Array.from({ length: shape.perTransaction }, (): Message => ({ key, value }));
  try {
    // one transaction before any clock, as Liberator's producer registers its id before it reads
    await (await producer.transaction()).abort();
  } catch (err) {
    await producer.disconnect();
    throw err;
  }
  return {
    topic,
    /** `records` records, timed. */
    send: (records: number): Promise<Ceiling> =>
      timed(records, async () => {
        for (let sent = 0; sent < records; sent += batch.length) {
          const tx = await producer.transaction();
          for (const messages of requests(batch.slice(0, Math.min(batch.length, records - sent)), key.length, value.length)) await tx.send({ topic, messages });
          await tx.commit();
        }
      }),
    close: () => producer.disconnect(),
  };
}

/** The bare transactional producer: `records` records of the given sizes into a fresh 1-partition topic. */
export async function bareProducer(brokers: string[], shape: RecordShape): Promise<Ceiling> {
  const bare = await openBareProducer(brokers, { ...shape, perTransaction: Math.min(shape.perTransaction, shape.records) });
  try {
    return await bare.send(shape.records);
  } finally {
    await bare.close();
  }
}
