/**
 * The ceilings a figure is set beside, measured in the same run on the same cores: what the parts
 * Liberator is built on do alone.
 *
 * - the bare producer: kafkajs, transactional and idempotent as Liberator's producer, sending the
 *   same number of records of the same sizes in transactions of the same size, nothing else;
 * - bare latency: that producer at a fixed rate, one transaction at a time, into a read_committed
 *   consumer: what a Kafka transaction and a fetch cost on this broker;
 * - the plain read: the same rows read in the same chunks by the same driver, nothing done with them.
 *
 * Each runs in this process; its CPU is this process's (user + system) over the measurement.
 */
import { Kafka, logLevel, Partitioners, type Message } from "kafkajs";
import mysql, { type Connection } from "mysql2/promise";
import type pg from "pg";
import { ensureTopics } from "../src/runtime/kafka/admin.js";
import { MYSQL_READ_OPTIONS } from "../src/runtime/db/mysql.js";
import type { HarnessInfo } from "../test/harness/start.js";
import { uniqueName } from "../test/harness/util.js";
import { watchArrivals, summary } from "./arrivals.js";
import { sleep } from "./daemon.js";

export interface Ceiling {
  rowsPerS: number;
  cpuUsPerRow: number;
  seconds: number;
}

/** Wall time and this process's CPU of `work`, which handles `rows` rows. */
export async function timed(rows: number, work: () => Promise<void>): Promise<Ceiling> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return { rowsPerS: (rows * 1000) / ms, cpuUsPerRow: (used.user + used.system) / rows, seconds: ms / 1000 };
}

function quietKafka(brokers: string[]): Kafka {
  return new Kafka({ clientId: "bench-ceiling", brokers, logLevel: logLevel.NOTHING });
}

/** As Liberator's TransactionalProducer sets it up (src/runtime/kafka/producer.ts). */
function transactionalProducer(kafka: Kafka) {
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

function requests(messages: Message[], keyBytes: number, valueBytes: number): Message[][] {
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

/** The bare transactional producer: `records` records of the given sizes into a fresh 1-partition topic. */
export async function bareProducer(brokers: string[], shape: RecordShape): Promise<Ceiling> {
  const kafka = quietKafka(brokers);
  const topic = uniqueName("bench_bare");
  await ensureTopics(kafka, [{ topic, partitions: 1, replicationFactor: 1 }]);
  const producer = transactionalProducer(kafka);
  await producer.connect();
  const key = Buffer.alloc(Math.round(shape.keyBytes), 1);
  const value = Buffer.alloc(Math.round(shape.valueBytes), 2);
  const batch = Array.from({ length: Math.min(shape.perTransaction, shape.records) }, (): Message => ({ key, value }));
  try {
    // one transaction before the clock, as Liberator's producer registers its id before it reads
    await (await producer.transaction()).abort();
    return await timed(shape.records, async () => {
      for (let sent = 0; sent < shape.records; sent += batch.length) {
        const tx = await producer.transaction();
        for (const messages of requests(batch.slice(0, Math.min(batch.length, shape.records - sent)), key.length, value.length)) await tx.send({ topic, messages });
        await tx.commit();
      }
    });
  } finally {
    await producer.disconnect();
  }
}

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

/** A connection that reads values as the sources do (exact decimals and dates as text, UTC). */
export function mysqlReader(server: HarnessInfo["mariadb"], database: string): Promise<Connection> {
  return mysql.createConnection({ ...server, database, ...MYSQL_READ_OPTIONS, timezone: "Z" });
}

/** The plain chunked read of a MySQL/MariaDB table by its integer key `id`, with the source's protocol. */
export async function plainMysqlRead(conn: Connection, table: string, chunk: number, protocol: "query" | "execute"): Promise<Ceiling & { rows: number }> {
  let rows = 0;
  const ceiling = await timed(1, async () => {
    let last = -1;
    for (;;) {
      const sql = `SELECT * FROM ${table} WHERE id > ? ORDER BY id LIMIT ${chunk}`;
      const [result] = protocol === "execute" ? await conn.execute(sql, [last]) : await conn.query(sql, [last]);
      const page = result as { id: number }[];
      rows += page.length;
      if (page.length < chunk) return;
      last = page[page.length - 1]!.id;
    }
  });
  return { rows, rowsPerS: ceiling.rowsPerS * rows, cpuUsPerRow: ceiling.cpuUsPerRow / rows, seconds: ceiling.seconds };
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
