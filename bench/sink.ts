/**
 * The sql sink from Kafka into PostgreSQL and into MariaDB, as users run it: the real
 * `liberator run` in its own process, read_committed, Avro in the wire format, rows and offsets in
 * one target transaction per batch, upsert mode. A topic is first filled with change events of a
 * 6-column table (bigint key, varchar, int, decimal(10,2), datetime(6), boolean) exactly as a
 * source writes them: 80 % new keys, then 20 % updates of keys written before (the conflict path).
 * Then each target gets a fresh database and a sink, and the clock runs from the sink's first
 * stored offset to its last, read from liberator_offsets. Beside it, in the same run:
 *
 * - the ceiling: the same records, decoded as the sink pipeline hands them over, written by the
 *   same sink code (same statements, same transactions with the offsets) with no Kafka in between,
 *   in batches of 10,000; only the writes are timed;
 * - two tasks: two sink connectors in one process, each on a topic of its own (the second topic
 *   holds as many records, on other keys) and a table of its own in the same database; their
 *   rows/s together over one's;
 * - reconciliation: after each run the target holds exactly the keys written, with the last
 *   version of each (row count and sum of a column updated by the 20 %), or the run fails;
 * - CPU of the liberator process per row, its peak RSS, the load average.
 *
 * Scale: BENCH_SINK_ROWS (1,000,000 records per topic), or BENCH_SCALE.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import pg from "pg";
import { pino } from "pino";
import { stringify } from "yaml";
import type { ChangeRecord, SinkRecord } from "../src/runtime/connector.js";
import { ensureTopics } from "../src/runtime/kafka/admin.js";
import { createKafka } from "../src/runtime/kafka/client.js";
import { kafkaConfigSchema } from "../src/runtime/kafka/config.js";
import { TransactionalProducer } from "../src/runtime/kafka/producer.js";
import { envelope, tableStream } from "../src/runtime/sql-types/envelope.js";
import { schemaRegistryConfig } from "../src/runtime/schema-registry/config.js";
import { createSchemaService, type SchemaService } from "../src/runtime/schema-registry/index.js";
import type { ColumnInfo } from "../src/runtime/sql-types/mapping.js";
import { sqlSinkConfig } from "../src/sinks/sql/config.js";
import { SqlSink } from "../src/sinks/sql/sql-sink.js";
import type { HarnessInfo } from "../test/harness/start.js";
import { uniqueName } from "../test/harness/util.js";
import type { Ceiling } from "./ceilings.js";
import { buildLiberator, loadAverage, ratio, round, scaled, sleep, startLiberator, type Daemon } from "./daemon.js";
import type { BenchContext, BenchResult } from "./report.js";

const ROWS = process.env.BENCH_SINK_ROWS ? Number(process.env.BENCH_SINK_ROWS) : scaled(1_000_000, 10_000);
/** The first 80 % of a topic's records insert new keys; the rest update keys of the first part. */
const NEW_KEYS = Math.floor(ROWS * 0.8);
const TX = 10_000;

const COLUMNS: ColumnInfo[] = [
  { name: "id", dialect: "mysql", sqlType: "bigint(20)", nullable: false },
  { name: "name", dialect: "mysql", sqlType: "varchar(64)", nullable: false },
  { name: "qty", dialect: "mysql", sqlType: "int(11)", nullable: false },
  { name: "price", dialect: "mysql", sqlType: "decimal(10,2)", nullable: false },
  { name: "created", dialect: "mysql", sqlType: "datetime(6)", nullable: false },
  { name: "active", dialect: "mysql", sqlType: "tinyint(1)", nullable: false },
];

const log = pino({ level: "silent" });

/** Record i of a topic whose keys start at `base`: a new key, or (the last 20 %) an update of key i − NEW_KEYS with qty + 1000. */
function row(i: number, base: number) {
  const update = i >= NEW_KEYS;
  const k = update ? i - NEW_KEYS : i;
  return {
    id: BigInt(base + k),
    name: `customer-${k % 50_000}${update ? "-moved" : ""}`,
    qty: (k % 1000) + (update ? 1000 : 0),
    price: `${1 + Math.floor((k % 100_000) / 100)}.${String(k % 100).padStart(2, "0")}`,
    created: `2024-03-01T12:${String(Math.floor(k / 60) % 60).padStart(2, "0")}:${String(k % 60).padStart(2, "0")}.${String(k % 1_000_000).padStart(6, "0")}`,
    active: k % 2,
  };
}

/** What a target must hold after a topic: one row per key, the last version of each (sum of qty). */
function expected(): { rows: number; qty: bigint } {
  let qty = 0n;
  for (let k = 0; k < NEW_KEYS; k++) qty += BigInt((k % 1000) + (k < ROWS - NEW_KEYS ? 1000 : 0));
  return { rows: NEW_KEYS, qty };
}

const stream = (topic: string) => tableStream({ columns: COLUMNS, primaryKey: ["id"] }, { topic });
const SOURCE = { connector: "binlog", name: "bench", db: "shop", table: "orders", ts_ms: 1_700_000_000_000 };

/** The change records of records from..to of a topic, as a source hands them to the serializer. */
function changeRecords(topic: string, base: number, from: number, to: number): ChangeRecord[] {
  const s = stream(topic);
  const out: ChangeRecord[] = [];
  for (let i = from; i < to; i++) {
    const r = row(i, base);
    out.push({ topic, key: { id: r.id }, keySchema: s.keySchema, value: envelope(i >= NEW_KEYS ? "u" : "c", null, r, SOURCE), valueSchema: s.valueSchema });
  }
  return out;
}

/** Fills the topic; returns the offset the sink stores after the last record (its commit marker's). */
async function fillTopic(info: HarnessInfo, schemas: SchemaService, topic: string, base: number): Promise<number> {
  const kafka = createKafka(kafkaConfigSchema.parse({ brokers: info.kafka.brokers }), log, "bench-fill");
  await ensureTopics(kafka, [{ topic, partitions: 1, replicationFactor: 1 }]);
  const producer = new TransactionalProducer(kafka, { transactionalId: uniqueName("bench_fill"), connector: "bench", transactionTimeoutMs: 60_000 });
  await producer.connect();
  try {
    for (let start = 0; start < ROWS; start += TX) {
      const encoded = await schemas.serializer.serialize(changeRecords(topic, base, start, Math.min(ROWS, start + TX)));
      await producer.commit(encoded.map((e) => ({ topic, key: e.key, value: e.value })));
    }
    const admin = kafka.admin();
    await admin.connect();
    const [end] = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    // the last offset of a transactional topic is the last commit marker, which no record carries
    return Number(end!.high) - 1;
  } finally {
    await producer.disconnect();
  }
}

interface Target {
  label: string;
  dialect: "postgres" | "mysql";
  connection: Record<string, unknown>;
  /** next_offset stored for the topic of the i-th connector, 0 before the first commit. */
  stored(connector: string, topic: string, i: number): Promise<number>;
  /** Rows of the i-th connector's table and the sum of their qty. */
  contents(i: number): Promise<{ rows: number; qty: bigint }>;
  close(): Promise<void>;
}

/*
 * The i-th sink of a run writes its own table and keeps its own offsets table: two connectors
 * starting at once on one database race to create the same tables (CREATE TABLE of the rows'
 * table, and PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against a concurrent one).
 */
const table = (i: number) => (i === 0 ? "orders" : `orders_${i + 1}`);
const offsetsTable = (i: number) => (i === 0 ? "liberator_offsets" : `liberator_offsets_${i + 1}`);

async function postgresTarget(info: HarnessInfo): Promise<Target> {
  const database = uniqueName("bench_sink");
  const admin = new pg.Client(info.postgres);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const client = new pg.Client({ ...info.postgres, database });
  await client.connect();
  return {
    label: "PostgreSQL 15",
    dialect: "postgres",
    connection: { ...info.postgres, database },
    stored: async (connector, topic, i) => {
      const r = await client.query<{ o: string }>(`SELECT next_offset AS o FROM ${offsetsTable(i)} WHERE connector = $1 AND topic = $2`, [connector, topic]).catch(() => ({ rows: [] }));
      return Number(r.rows[0]?.o ?? 0);
    },
    contents: async (i) => {
      const r = await client.query<{ n: string; q: string | null }>(`SELECT count(*) AS n, sum(qty) AS q FROM ${table(i)}`);
      return { rows: Number(r.rows[0]!.n), qty: BigInt(r.rows[0]!.q ?? 0) };
    },
    close: () => client.end(),
  };
}

async function mariadbTarget(info: HarnessInfo): Promise<Target> {
  const database = uniqueName("bench_sink");
  const conn = await mysql.createConnection(info.mariadb);
  await conn.query(`CREATE DATABASE ${database}`);
  await conn.query(`USE ${database}`);
  return {
    label: "MariaDB 10.11",
    dialect: "mysql",
    connection: { ...info.mariadb, database },
    stored: async (connector, topic, i) => {
      const [rows] = await conn.query(`SELECT next_offset AS o FROM ${offsetsTable(i)} WHERE connector = ? AND topic = ?`, [connector, topic]).catch(() => [[]]);
      return Number((rows as { o: string }[])[0]?.o ?? 0);
    },
    contents: async (i) => {
      const [rows] = await conn.query(`SELECT count(*) AS n, CAST(sum(qty) AS CHAR) AS q FROM ${table(i)}`);
      const r = (rows as { n: number; q: string | null }[])[0]!;
      return { rows: Number(r.n), qty: BigInt(r.q ?? 0) };
    },
    close: () => conn.end(),
  };
}

/** The target must hold `rows` keys whose qty sums to `qty`: every record arrived, and the last version of each key won. */
async function reconcile(target: Target, want: { rows: number; qty: bigint }, what: string, i = 0): Promise<void> {
  const got = await target.contents(i);
  if (got.rows !== want.rows || got.qty !== want.qty) {
    throw new Error(`${what}: ${target.label} holds ${got.rows} rows (qty sum ${got.qty}), not ${want.rows} (qty sum ${want.qty}): rows were lost or an update did not win`);
  }
}

interface SinkRun {
  steady: number;
  total: number;
  cpuUsPerRow: number;
  rssMb: number;
  load: string;
}

/**
 * `liberator run` with one sql sink per topic until each has stored its topic's last offset;
 * rows/s over all of them, from the first stored offset to the last.
 */
async function runSinks(info: HarnessInfo, target: Target, topics: { topic: string; end: number }[], registryTopic: string): Promise<SinkRun> {
  const connectors = topics.map((t) => ({ ...t, name: uniqueName("bench_sink") }));
  const file = join(mkdtempSync(join(tmpdir(), "liberator-bench-sink-")), "connectors.yaml");
  writeFileSync(
    file,
    stringify({
      kafka: { brokers: info.kafka.brokers, topics: { replicationFactor: 1 } },
      schemaRegistry: { topic: registryTopic },
      admin: { enabled: false },
      log: { level: "warn" },
      connectors: connectors.map((c, i) => ({ name: c.name, type: "sql", dialect: target.dialect, connection: target.connection, topics: [c.topic], table: table(i), offsetsTable: offsetsTable(i), mode: "upsert" })),
    }),
  );
  const started = Date.now();
  const d: Daemon = startLiberator(file, 0, buildLiberator());
  let first: { at: number; rows: number; cpu: number } | undefined;
  let done: number;
  let doneCpu: number;
  // offsets count commit markers too (one per TX records): rows are what the rate is of
  const rowsAt = (offset: number, end: number) => offset * (ROWS / end);
  try {
    for (;;) {
      if (d.child.exitCode !== null) throw new Error(`liberator exited with ${d.child.exitCode}: ${d.stderr()}`);
      if (Date.now() - started > Number(process.env.BENCH_SINK_TIMEOUT_S ?? 900) * 1000) throw new Error(`the sinks did not store their last offsets in 15 minutes: ${d.stderr()}`);
      await sleep(20);
      const stored: number[] = [];
      // one at a time: the target's client is a single connection
      for (const [i, c] of connectors.entries()) stored.push(await target.stored(c.name, c.topic, i));
      const rows = stored.reduce((n, s, i) => n + rowsAt(s, connectors[i]!.end), 0);
      if (rows > 0 && !first) first = { at: Date.now(), rows, cpu: d.cpuSeconds() };
      if (stored.every((s, i) => s >= connectors[i]!.end)) break;
    }
    done = Date.now();
    doneCpu = d.cpuSeconds();
  } finally {
    await d.stop();
  }
  const all = ROWS * connectors.length;
  return {
    steady: ((all - first!.rows) * 1000) / (done - first!.at),
    total: (all * 1000) / (done - started),
    cpuUsPerRow: ((doneCpu - first!.cpu) * 1e6) / (all - first!.rows),
    rssMb: d.peakMb(),
    load: loadAverage(),
  };
}

/**
 * The ceiling: the topic's records, serialized and decoded as the pipeline decodes them (outside
 * the clock), written through the sink itself in batches of TX with their offsets; the clock and
 * this process's CPU count only the writes.
 */
async function withoutKafka(target: Target, schemas: SchemaService, topic: string): Promise<Ceiling> {
  const sink = new SqlSink(
    sqlSinkConfig.parse({ name: "bench_ceiling", type: "sql", dialect: target.dialect, connection: target.connection, topics: [topic], table: "orders", mode: "upsert" }),
    { connector: "bench_ceiling", task: { index: 0, count: 1 }, log, signal: new AbortController().signal, metrics: { recordsOut() {}, recordsIn() {}, lagSeconds() {}, snapshotProgress() {}, observe() {} } },
  );
  await sink.open();
  await sink.claim([{ topic, partition: 0 }]);
  let ms = 0;
  let cpuUs = 0;
  try {
    for (let start = 0; start < ROWS; start += TX) {
      const encoded = await schemas.serializer.serialize(changeRecords(topic, 0, start, Math.min(ROWS, start + TX)));
      const records: SinkRecord[] = [];
      for (const [i, e] of encoded.entries()) {
        const key = (await schemas.deserializer.deserialize(e.key))!;
        const value = (await schemas.deserializer.deserialize(e.value))!;
        records.push({ topic, partition: 0, offset: String(start + i), key: key.value, keySchema: key.schema, value: value.value, valueSchema: value.schema, headers: {}, timestamp: 0 });
      }
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      await sink.write({ records, offsets: [{ topic, partition: 0, offset: String(start + records.length) }] });
      ms += performance.now() - t0;
      const used = process.cpuUsage(cpu);
      cpuUs += used.user + used.system;
    }
  } finally {
    await sink.close();
  }
  return { rowsPerS: (ROWS * 1000) / ms, cpuUsPerRow: cpuUs / ROWS, seconds: ms / 1000 };
}

export async function run(context: BenchContext): Promise<BenchResult> {
  const info = await context.servers();
  const topic = `${uniqueName("bench_sink")}.shop.orders`;
  const second = `${uniqueName("bench_sink2")}.shop.orders`;
  const registryTopic = uniqueName("bench_schemas");
  const kafka = createKafka(kafkaConfigSchema.parse({ brokers: info.kafka.brokers }), log, "bench-schemas");
  const schemas = await createSchemaService(schemaRegistryConfig.parse({ topic: registryTopic }), { kafka, log });
  const want = expected();
  const results: { target: Target; one: SinkRun; ceiling: Ceiling; two: SinkRun }[] = [];
  let fillSeconds: number;
  try {
    const t0 = Date.now();
    const end = await fillTopic(info, schemas, topic, 0);
    const secondEnd = await fillTopic(info, schemas, second, ROWS);
    fillSeconds = (Date.now() - t0) / 1000;
    for (const make of [postgresTarget, mariadbTarget]) {
      const targets: Target[] = [];
      try {
        const target = await make(info);
        targets.push(target);
        const one = await runSinks(info, target, [{ topic, end }], registryTopic);
        await reconcile(target, want, "one sink");
        const bare = await make(info);
        targets.push(bare);
        const ceiling = await withoutKafka(bare, schemas, topic);
        await reconcile(bare, want, "the ceiling");
        const both = await make(info);
        targets.push(both);
        const two = await runSinks(info, both, [{ topic, end }, { topic: second, end: secondEnd }], registryTopic);
        await reconcile(both, want, "two sinks, the first", 0);
        await reconcile(both, want, "two sinks, the second", 1);
        results.push({ target, one, ceiling, two });
      } finally {
        await Promise.all(targets.map((t) => t.close()));
      }
    }
  } finally {
    await schemas.close();
  }
  const [p, m] = results as [(typeof results)[0], (typeof results)[0]];
  const line = (r: (typeof results)[0]) =>
    `${r.target.label}: one sink ${Math.round(r.one.steady).toLocaleString("en-US")} rows/s at ${r.one.cpuUsPerRow.toFixed(1)} µs CPU/row, peak RSS ${Math.round(r.one.rssMb)} MB, load ${r.one.load}; ` +
    `without Kafka ${Math.round(r.ceiling.rowsPerS).toLocaleString("en-US")} rows/s at ${r.ceiling.cpuUsPerRow.toFixed(1)} µs CPU/row; ` +
    `two sinks ${Math.round(r.two.steady).toLocaleString("en-US")} rows/s together at ${r.two.cpuUsPerRow.toFixed(1)} µs CPU/row, peak RSS ${Math.round(r.two.rssMb)} MB, load ${r.two.load}`;
  return {
    figures: [
      { name: "upsert into PostgreSQL, from Kafka (Avro, exactly-once)", value: p.one.steady, unit: "rows/s", reference: { value: p.ceiling.rowsPerS, label: "same sink, same statements, no Kafka" } },
      { name: "upsert into MariaDB, from Kafka (Avro, exactly-once)", value: m.one.steady, unit: "rows/s", reference: { value: m.ceiling.rowsPerS, label: "same sink, same statements, no Kafka" } },
      { name: "two sinks into PostgreSQL, together", value: p.two.steady, unit: "rows/s", reference: { value: p.one.steady, label: "one sink" } },
      { name: "two sinks into MariaDB, together", value: m.two.steady, unit: "rows/s", reference: { value: m.one.steady, label: "one sink" } },
      { name: "PostgreSQL, including process start", value: p.one.total, unit: "rows/s" },
      { name: "MariaDB, including process start", value: m.one.total, unit: "rows/s" },
      { name: "liberator CPU per row, PostgreSQL (user + system)", value: p.one.cpuUsPerRow, unit: "µs" },
      { name: "liberator CPU per row, MariaDB (user + system)", value: m.one.cpuUsPerRow, unit: "µs" },
      { name: "peak RSS of liberator (PostgreSQL run)", value: p.one.rssMb, unit: "MB", reference: { value: 256, label: "goal: below" } },
      { name: "peak RSS of liberator (MariaDB run)", value: m.one.rssMb, unit: "MB", reference: { value: 256, label: "goal: below" } },
    ],
    fields: {
      pg_rows_per_s: Math.round(p.one.steady),
      mysql_rows_per_s: Math.round(m.one.steady),
      pg_ceiling_ratio: ratio(p.one.steady, p.ceiling.rowsPerS),
      mysql_ceiling_ratio: ratio(m.one.steady, m.ceiling.rowsPerS),
      two_tasks_ratio: { pg: ratio(p.two.steady, p.one.steady), mysql: ratio(m.two.steady, m.one.steady) },
      cpu_us_per_row: { pg: round(p.one.cpuUsPerRow), mysql: round(m.one.cpuUsPerRow) },
      rss_mb: Math.round(Math.max(p.one.rssMb, m.one.rssMb, p.two.rssMb, m.two.rssMb)),
    },
    notes: [
      `${ROWS.toLocaleString("en-US")} change events per topic (${NEW_KEYS.toLocaleString("en-US")} new keys, then ${(ROWS - NEW_KEYS).toLocaleString("en-US")} updates of keys written before) pre-filled in ${fillSeconds.toFixed(1)} s for two topics, one partition each, Kafka transactions of ${TX.toLocaleString("en-US")}`,
      "rows/s from the sinks' first stored offset to the last (read from liberator_offsets every 20 ms); the 'including process start' rows count from spawning `liberator run`",
      "default batch settings (batch.maxRecords 10,000); every batch is one target transaction with its offsets and the epoch check; after every run the target held exactly the keys written, each at its last version (row count and qty sum)",
      line(p),
      line(m),
      "two_tasks_ratio: two sql sinks in one process, each on its own topic and table in the same database, over one sink",
    ],
  };
}
