/**
 * The ceilings a figure is set beside, measured in the same run on the same cores: what the parts
 * Liberator is built on do alone.
 *
 * - the bare producer (parts/bare-producer.ts), zongji alone (parts/zongji-alone.ts) and the plain
 *   read of a MySQL/MariaDB table (parts/plain-read.ts): files of their own, so that each can also
 *   run alone in a process of its own (parts/floor.ts);
 * - bare latency: that producer at a fixed rate, one transaction at a time, into a read_committed
 *   consumer: what a Kafka transaction and a fetch cost on this broker;
 * - the plain read of a PostgreSQL table: the same rows in the same chunks, nothing done with them.
 *
 * Each runs in this process; its CPU is this process's (user + system) over the measurement.
 */
import type { Message } from "kafkajs";
import type pg from "pg";
import { ensureTopics } from "../src/runtime/kafka/admin.js";
import { uniqueName } from "../test/harness/util.js";
import { watchArrivals, summary } from "./arrivals.js";
import { sleep } from "./daemon.js";
import { quietKafka, requests, transactionalProducer } from "./parts/bare-producer.js";
import { timed, type Ceiling } from "./parts/timed.js";

/**
 * Bare produce → read_committed consume at `rate` records/s: every 5 ms the records due are put in
 * one transaction (the next waits for the one before, as a source's do); each record carries the
 * time it was due; latency = arrival − due. The first `warmupS` seconds are kept apart, as the
 * latency phases of the benchmarks keep a fresh daemon's first seconds apart.
 */
export async function bareLatency(
  brokers: string[],
  opts: { rate: number; seconds: number; warmupS: number; keyBytes: number; valueBytes: number },
): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const kafka = quietKafka(brokers);
  const topic = uniqueName("bench_bare_latency");
  await ensureTopics(kafka, [{ topic, partitions: 1, replicationFactor: 1 }]);
  const total = Math.round(opts.rate * (opts.seconds + opts.warmupS));
  const dueAt = new Float64Array(total + 1);
  const arrivals = await watchArrivals(kafka, topic, total, (m) => m.value!.readUInt32BE(0), dueAt);
  const producer = transactionalProducer(kafka);
  await producer.connect();
  const key = Buffer.alloc(Math.round(opts.keyBytes), 1);
  const valueBytes = Math.max(8, Math.round(opts.valueBytes));
  try {
    await (await producer.transaction()).abort();
    const t0 = performance.now();
    let next = 1;
    while (next <= total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * opts.rate) / 1000));
      if (due < next) {
        await sleep(5 - ((performance.now() - t0) % 5));
        continue;
      }
      const messages: Message[] = [];
      for (; next <= due; next++) {
        const value = Buffer.alloc(valueBytes, 2);
        value.writeUInt32BE(next, 0);
        dueAt[next] = t0 + ((next - 1) * 1000) / opts.rate;
        messages.push({ key, value });
      }
      const tx = await producer.transaction();
      for (const request of requests(messages, key.length, valueBytes)) await tx.send({ topic, messages: request });
      await tx.commit();
    }
    await arrivals.complete(total, 30_000);
    const warm = Math.round(opts.rate * opts.warmupS);
    return summary(arrivals.latencies(warm + 1, total));
  } finally {
    await producer.disconnect();
    await arrivals.stop();
  }
}

/** The plain chunked read of a PostgreSQL table by its integer key `id`. */
export async function plainPgRead(client: pg.Client, table: string, chunk: number): Promise<Ceiling & { rows: number }> {
  let rows = 0;
  const ceiling = await timed(1, async () => {
    let last = -1;
    for (;;) {
      const page = (await client.query<{ id: string }>({ text: `SELECT * FROM ${table} WHERE id > $1 ORDER BY id LIMIT ${chunk}`, values: [last], name: "bench_plain_read" })).rows;
      rows += page.length;
      if (page.length < chunk) return;
      last = Number(page[page.length - 1]!.id);
    }
  });
  return { rows, rowsPerS: ceiling.rowsPerS * rows, cpuUsPerRow: ceiling.cpuUsPerRow / rows, seconds: ceiling.seconds };
}
