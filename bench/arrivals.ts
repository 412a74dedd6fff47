/**
 * Reading back what a benchmark sent, read_committed, so no row is dropped from a count: every id
 * written must arrive exactly once, or the run fails naming how many were lost or doubled. Ids are
 * small consecutive integers (1..n), so arrivals and commit times live in flat typed arrays.
 */
import type { Consumer, Kafka, KafkaMessage } from "kafkajs";
import type { SchemaService } from "../src/runtime/schema-registry/index.js";
import { uniqueName } from "../test/harness/util.js";
import { quantile, sleep } from "./daemon.js";

export interface Arrivals {
  /** Ids seen at least once. */
  readonly distinct: number;
  readonly duplicates: number;
  /** Average key and value sizes of the messages seen, bytes (what the bare producer sends). */
  keyBytes(): number;
  valueBytes(): number;
  /**
   * Resolves when every id of 1..expected (or of the list) has arrived, once; throws after
   * `idleMs` with nothing new, or when an id arrived twice.
   */
  complete(expected: number | readonly number[], idleMs?: number): Promise<void>;
  /** Arrival − commit (ms) of each id in [from, to], ascending; every one must have arrived. */
  latencies(from: number, to: number): Float64Array;
  /** The same for a list of ids. */
  latenciesOf(ids: readonly number[]): Float64Array;
  /** When the last of the ids arrived (performance.now()). */
  lastArrival(): number;
  stop(): Promise<void>;
}

/**
 * Consumes `topic` from its start in a group of its own; `idOf` reads a message's id (undefined:
 * not one of ours, e.g. a tombstone). `committedAt[id]` (performance.now() when the writer's commit
 * returned), when given, turns arrivals into latencies.
 */
export async function watchArrivals(
  kafka: Kafka,
  topic: string,
  capacity: number,
  idOf: (m: KafkaMessage) => number | undefined | Promise<number | undefined>,
  committedAt?: Float64Array,
): Promise<Arrivals & { consumer: Consumer }> {
  const arrivedAt = new Float64Array(capacity + 1);
  let distinct = 0;
  let duplicates = 0;
  let keyBytes = 0;
  let valueBytes = 0;
  let messages = 0;
  let last = 0;
  let lastNews = performance.now();
  const consumer = kafka.consumer({ groupId: uniqueName("bench_read"), readUncommitted: false, maxWaitTimeInMs: 5, maxBytesPerPartition: 4 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = performance.now();
      for (const m of batch.messages) {
        const id = await idOf(m);
        if (id === undefined) continue;
        messages++;
        keyBytes += m.key?.length ?? 0;
        valueBytes += m.value?.length ?? 0;
        if (id < 1 || id > capacity) throw new Error(`id ${id} is outside 1..${capacity}`);
        if (arrivedAt[id] !== 0) duplicates++;
        else {
          arrivedAt[id] = now;
          distinct++;
          last = now;
        }
      }
      if (batch.messages.length > 0) lastNews = now;
    },
  });
  // run() returns before the group is joined: rows written meanwhile would time the join
  await joined;
  return {
    consumer,
    get distinct() {
      return distinct;
    },
    get duplicates() {
      return duplicates;
    },
    keyBytes: () => (messages ? keyBytes / messages : 0),
    valueBytes: () => (messages ? valueBytes / messages : 0),
    async complete(expected, idleMs = 60_000) {
      const missing = () => (typeof expected === "number" ? expected - distinct : expected.filter((id) => arrivedAt[id] === 0).length);
      for (let left = missing(); left > 0; left = missing()) {
        if (performance.now() - lastNews > idleMs) {
          const total = typeof expected === "number" ? expected : expected.length;
          throw new Error(`${topic}: ${left} of ${total} rows never arrived (nothing new for ${idleMs / 1000} s): a lost row fails the run`);
        }
        await sleep(typeof expected === "number" ? 20 : 200);
      }
      if (duplicates > 0) throw new Error(`${topic}: ${duplicates} rows arrived twice: exactly-once failed`);
    },
    latencies: (from, to) => latenciesOf(Array.from({ length: to - from + 1 }, (_, i) => from + i)),
    latenciesOf,
    lastArrival: () => last,
    stop: () => consumer.disconnect(),
  };

  function latenciesOf(ids: readonly number[]): Float64Array {
    const out = new Float64Array(ids.length);
    let n = 0;
    for (const id of ids) {
      const at = committedAt?.[id] ?? 0;
      if (at === 0) throw new Error(`no commit time was noted for id ${id}`);
      if (arrivedAt[id] === 0) throw new Error(`${topic}: id ${id} never arrived`);
      out[n++] = arrivedAt[id]! - at;
    }
    return out.sort();
  }
}

/** p50, p99 and max of ascending latencies, ms. */
export function summary(sorted: Float64Array): { p50: number; p99: number; max: number; n: number } {
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? NaN, n: sorted.length };
}

/** The `id` field of a record's Avro key (Confluent wire format), as a number. */
export function avroKeyId(schemas: SchemaService): (m: KafkaMessage) => Promise<number | undefined> {
  return async (m) => {
    const id = ((await schemas.deserializer.deserialize(m.key))?.value as { id?: unknown } | undefined)?.id;
    return id === undefined ? undefined : Number(id);
  };
}

/** Reads a topic back: ids 1..rows each exactly once, or the run fails; the records' average sizes. */
export async function readBack(kafka: Kafka, topic: string, rows: number, idOf: (m: KafkaMessage) => Promise<number | undefined>): Promise<{ keyBytes: number; valueBytes: number }> {
  const arrivals = await watchArrivals(kafka, topic, rows, idOf);
  try {
    await arrivals.complete(rows);
    return { keyBytes: arrivals.keyBytes(), valueBytes: arrivals.valueBytes() };
  } finally {
    await arrivals.stop();
  }
}
