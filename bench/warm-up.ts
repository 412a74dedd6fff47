/**
 * A broker just started is not the broker of a deployment that has run for a day: its JVM compiles
 * the produce, transaction and fetch paths under load. Here a bare transactional producer went from 122k
 * to about 400k records/s over its first 40 s of traffic, and Liberator's snapshot from 45–53k to
 * 78–80k rows/s, while whatever ran later (Debezium, the ceilings) met a warm broker. So every
 * benchmark starts on a warm one: the bare producer sends rounds of records for a minute at least,
 * then until its mean rate over the last 15 s is less than 5 % above that over the 15 s before (at
 * most three minutes). A shorter warm-up, stopped by that test alone, ended on a first plateau
 * (about 230k records/s after 16-31 s) below the rate the broker reached later. Meanwhile a
 * read_committed consumer reads what it sends, for the fetch path the sinks and the read-backs use;
 * the topic, some GB by then, is deleted after.
 */
import { uniqueName } from "../test/harness/util.js";
import { openBareProducer, quietKafka } from "./parts/bare-producer.js";

const ROUND = 100_000;
const WINDOW_MS = 15_000;
const MIN_MS = 60_000;
const MAX_MS = 180_000;

export async function warmBroker(brokers: string[]): Promise<string> {
  const kafka = quietKafka(brokers);
  const bare = await openBareProducer(brokers, { keyBytes: 8, valueBytes: 160, perTransaction: 10_000 });
  const consumer = kafka.consumer({ groupId: uniqueName("bench_warmup"), readUncommitted: false, maxBytesPerPartition: 4 << 20 });
  let read = 0;
  let reached: number;
  const rounds: { at: number; rate: number }[] = [];
  const t0 = performance.now();
  /** The mean rate of the rounds that ended in the window of WINDOW_MS ending `end` ms ago. */
  const mean = (end: number) => {
    const now = performance.now();
    const rates = rounds.filter((r) => r.at > now - end - WINDOW_MS && r.at <= now - end).map((r) => r.rate);
    return rates.reduce((a, b) => a + b, 0) / rates.length;
  };
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: bare.topic, fromBeginning: true });
    await consumer.run({ eachBatch: async ({ batch }) => void (read += batch.messages.length) });
    for (;;) {
      rounds.push({ rate: (await bare.send(ROUND)).rowsPerS, at: performance.now() });
      const elapsed = performance.now() - t0;
      reached = mean(0);
      if (elapsed >= MAX_MS || (elapsed >= MIN_MS && reached < 1.05 * mean(WINDOW_MS))) break;
    }
  } finally {
    await consumer.disconnect();
    await bare.close();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [bare.topic] }).finally(() => admin.disconnect());
  }
  const seconds = (rounds.at(-1)!.at - t0) / 1000;
  const rate = (r: number) => Math.round(r).toLocaleString("en-US");
  return `broker warmed up for ${seconds.toFixed(0)} s: the bare producer from ${rate(rounds[0]!.rate)} to ${rate(reached)} records/s (its mean over the last ${WINDOW_MS / 1000} s), ${rate(read)} of its ${rate(rounds.length * ROUND)} records read back meanwhile`;
}
