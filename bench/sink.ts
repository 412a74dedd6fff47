/**
 * The sql sink from Kafka into PostgreSQL and into MariaDB, as users run it: the real
 * `liberator run` in its own process, read_committed, Avro in the wire format, rows and offsets in
 * one target transaction per batch, upsert mode. A topic is first filled with change events of a
 * 6-column table (bigint key, varchar, int, decimal(10,2), datetime(6), boolean) exactly as a
 * source writes them (the binlog source's source and transaction blocks, transactions of 100 rows):
 * 80 % new keys, then 20 % updates of keys written before (the conflict path).
 * Then each target gets a fresh database and a sink, and the clock runs from the sink's first
 * stored offset to its last, read from liberator_offsets. Beside it, in the same run:
 *
 * - the ceiling: the same records, decoded as the sink pipeline hands them over, written by the
 *   same sink code (same statements, same transactions with the offsets) with no Kafka in between,
 *   in batches of 10,000; only the writes are timed;
 * - the bare consumer: kafkajs alone reading the same topic read_committed, the records unused;
 *   with the ceiling's CPU per row it bounds the ratio a sink that did nothing else could reach;
 * - two tasks in two processes: the same records on a topic of two partitions, one sql sink with
 *   `tasks: 2` run by two `liberator run` workers in cluster mode (over the harness's Redis), one
 *   task and one partition each; the pair's rows/s over one task's, their CPU per row summed over
 *   both processes, the peak RSS of each. The tasks are paused as soon as they exist and resumed
 *   once each worker runs one and holds its partition, so the clock does not time the spread;
 * - reconciliation: after each run the target holds exactly the keys written, with the last
 *   version of each (row count and sum of a column updated by the 20 %), or the run fails;
 * - CPU of the liberator process per row, its peak RSS, the load average.
 *
 * Scale: BENCH_SINK_ROWS (1,000,000 records per topic), or BENCH_SCALE.
 */
import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
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
import { freePort } from "../test/harness/ports.js";
import { readTopic } from "../test/harness/topics.js";
import { uniqueName } from "../test/harness/util.js";
import { bareConsumer } from "./parts/bare-consumer.js";
import type { Ceiling } from "./parts/timed.js";
import { buildLiberator, loadAverage, ratio, round, scaled, sleep, startLiberator, writeWorkerConfig, type Daemon } from "./daemon.js";
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

/** Record i of a topic: a new key, or (the last 20 %) an update of key i − NEW_KEYS with qty + 1000. */
function row(i: number) {
  const update = i >= NEW_KEYS;
  const k = update ? i - NEW_KEYS : i;
  return {
    id: BigInt(k),
    name: `customer-${k % 50_000}${update ? "-moved" : ""}`,
    qty: (k % 1000) + (update ? 1000 : 0),
    price: `${1 + Math.floor((k % 100_000) / 100)}.${String(k % 100).padStart(2, "0")}`,
    created: `2024-03-01T12:${String(Math.floor(k / 60) % 60).padStart(2, "0")}:${String(k % 60).padStart(2, "0")}.${String(k % 1_000_000).padStart(6, "0")}`,
    active: k % 2,
  };
}

/** What a target must hold after a topic: one row per key, the last version of each (sum of qty). */
export function expected(): { rows: number; qty: bigint } {
  let qty = 0n;
  for (let k = 0; k < NEW_KEYS; k++) qty += BigInt((k % 1000) + (k < ROWS - NEW_KEYS ? 1000 : 0));
  return { rows: NEW_KEYS, qty };
}

const stream = (topic: string) => tableStream({ columns: COLUMNS, primaryKey: ["id"] }, { topic });
/** Rows per source transaction of the records: their source and transaction blocks as the binlog source writes them. */
const SOURCE_TX = 100;

/** The change records of records from..to of a topic, as the binlog source hands them to the serializer. */
function changeRecords(topic: string, from: number, to: number): ChangeRecord[] {
  const s = stream(topic);
  const out: ChangeRecord[] = [];
  for (let i = from; i < to; i++) {
    const r = row(i);
    const tx = Math.floor(i / SOURCE_TX);
    const gtid = `0-1-${tx + 1}`;
    const source = { connector: "binlog", name: "bench", db: "shop", table: "orders", file: "mariadb-bin.000042", pos: 4 + tx * 12_000, gtid, row: i % SOURCE_TX, snapshot: null, ts_ms: 1_700_000_000_000 + tx, txId: null };
    const transaction = { id: gtid, total_order: (i % SOURCE_TX) + 1, data_collection_order: (i % SOURCE_TX) + 1 };
    out.push({ topic, key: { id: r.id }, keySchema: s.keySchema, value: envelope(i >= NEW_KEYS ? "u" : "c", null, r, source, transaction), valueSchema: s.valueSchema });
  }
  return out;
}

/**
 * Fills the topic, the records spread over its partitions by key (an update goes where its key's
 * insert went); returns for each partition the offset the sink stores after its last record (its
 * last commit marker's).
 */
export async function fillTopic(info: HarnessInfo, schemas: SchemaService, topic: string, partitions: number): Promise<number[]> {
  const kafka = createKafka(kafkaConfigSchema.parse({ brokers: info.kafka.brokers }), log, "bench-fill");
  await ensureTopics(kafka, [{ topic, partitions, replicationFactor: 1 }]);
  const producer = new TransactionalProducer(kafka, { transactionalId: uniqueName("bench_fill"), connector: "bench", transactionTimeoutMs: 60_000 });
  await producer.connect();
  try {
    for (let start = 0; start < ROWS; start += TX) {
      const encoded = await schemas.serializer.serialize(changeRecords(topic, start, Math.min(ROWS, start + TX)));
      await producer.commit(encoded.map((e) => ({ topic, key: e.key, value: e.value })));
    }
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    // the last offset of a transactional partition is a commit marker, which no record carries
    return ends.sort((a, b) => a.partition - b.partition).map((e) => Number(e.high) - 1);
  } finally {
    await producer.disconnect();
  }
}

export interface Target {
  label: string;
  dialect: "postgres" | "mysql";
  connection: Record<string, unknown>;
  /** next_offset stored for each partition of the topic by the connector (its tasks), those claimed without one as -1. */
  stored(connector: string, topic: string): Promise<Map<number, number>>;
  /** Rows of the table and the sum of their qty. */
  contents(): Promise<{ rows: number; qty: bigint }>;
  /** The keys below `updated` still at their first version (qty below 1000): how many, the least and the greatest. */
  stale(updated: number): Promise<{ keys: number; least: string | null; greatest: string | null }>;
  /** Empties the table for the next run, which then writes into a table of the same shape (its tasks need not race to create it). */
  empty(): Promise<void>;
  close(): Promise<void>;
}

const partitionsOf = (rows: { p: number | string; o: number | string }[]) => new Map(rows.map((r) => [Number(r.p), Number(r.o)]));

export async function postgresTarget(info: HarnessInfo): Promise<Target> {
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
    stored: async (connector, topic) => {
      const r = await client.query<{ p: number; o: string }>("SELECT partition AS p, next_offset AS o FROM liberator_offsets WHERE connector = $1 AND topic = $2", [connector, topic]).catch(() => ({ rows: [] }));
      return partitionsOf(r.rows);
    },
    contents: async () => {
      const r = await client.query<{ n: string; q: string | null }>("SELECT count(*) AS n, sum(qty) AS q FROM orders");
      return { rows: Number(r.rows[0]!.n), qty: BigInt(r.rows[0]!.q ?? 0) };
    },
    stale: async (updated) => {
      const r = await client.query<{ n: string; lo: string | null; hi: string | null }>("SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM orders WHERE id < $1 AND qty < 1000", [updated]);
      return { keys: Number(r.rows[0]!.n), least: r.rows[0]!.lo, greatest: r.rows[0]!.hi };
    },
    empty: async () => void (await client.query("TRUNCATE orders")),
    close: () => client.end(),
  };
}

export async function mariadbTarget(info: HarnessInfo): Promise<Target> {
  const database = uniqueName("bench_sink");
  const conn = await mysql.createConnection(info.mariadb);
  await conn.query(`CREATE DATABASE ${database}`);
  await conn.query(`USE ${database}`);
  return {
    label: "MariaDB 10.11",
    dialect: "mysql",
    connection: { ...info.mariadb, database },
    stored: async (connector, topic) => {
      const [rows] = await conn.query("SELECT `partition` AS p, next_offset AS o FROM liberator_offsets WHERE connector = ? AND topic = ?", [connector, topic]).catch(() => [[]]);
      return partitionsOf(rows as { p: number; o: string }[]);
    },
    contents: async () => {
      const [rows] = await conn.query("SELECT count(*) AS n, CAST(sum(qty) AS CHAR) AS q FROM orders");
      const r = (rows as { n: number; q: string | null }[])[0]!;
      return { rows: Number(r.n), qty: BigInt(r.q ?? 0) };
    },
    stale: async (updated) => {
      const [rows] = await conn.query("SELECT count(*) AS n, CAST(min(id) AS CHAR) AS lo, CAST(max(id) AS CHAR) AS hi FROM orders WHERE id < ? AND qty < 1000", [updated]);
      const r = (rows as { n: number; lo: string | null; hi: string | null }[])[0]!;
      return { keys: Number(r.n), least: r.lo, greatest: r.hi };
    },
    empty: async () => void (await conn.query("TRUNCATE TABLE orders")),
    close: () => conn.end(),
  };
}

/**
 * The target must hold `rows` keys whose qty sums to `qty`: every record arrived, and the last
 * version of each key won. `evidence` names what else to look at when it does not (asked only then).
 */
export async function reconcile(target: Target, want: { rows: number; qty: bigint }, what: string, evidence = async () => ""): Promise<void> {
  const got = await target.contents();
  if (got.rows !== want.rows || got.qty !== want.qty) {
    const stale = await target.stale(ROWS - NEW_KEYS);
    throw new Error(
      `${what}: ${target.label} holds ${got.rows} rows (qty sum ${got.qty}), not ${want.rows} (qty sum ${want.qty}): rows were lost or an update did not win; ` +
        `${stale.keys} of the ${ROWS - NEW_KEYS} updated keys hold their first version (ids ${stale.least}..${stale.greatest})${await evidence()}`,
    );
  }
}

/**
 * Whether the topic itself keeps each key in one partition (fillTopic's promise, which the two
 * tasks' order of updates rests on): read back whole when the two tasks did not reconcile.
 */
async function keysInBothPartitions(info: HarnessInfo, topic: string): Promise<string> {
  const partitions = new Map<string, Set<number>>();
  for (const r of await readTopic(info.kafka.brokers, topic, { expect: ROWS, timeoutMs: 300_000 })) {
    const key = r.key!.toString("hex");
    partitions.set(key, (partitions.get(key) ?? new Set()).add(r.partition));
  }
  const split = [...partitions.values()].filter((p) => p.size > 1).length;
  return `the topic holds ${partitions.size} keys, ${split} of them in both partitions`;
}

/** A topic filled by fillTopic: its name and each partition's last offset. */
export interface Filled {
  topic: string;
  ends: number[];
}

interface Timing {
  steady: number;
  /** ms since the epoch when the last offset was stored. */
  done: number;
  cpuUsPerRow: number;
  load: string;
}

/**
 * Reads the connector's stored offsets every 20 ms until every partition's last offset is stored;
 * the rate and the processes' CPU per row run from the first offset stored above `from` (what was
 * stored before the clock) to the last.
 */
async function untilStored(target: Target, connector: string, filled: Filled, daemons: Daemon[], from: number, deadline: number): Promise<Timing> {
  const cpu = () => daemons.reduce((s, d) => s + d.cpuSeconds(), 0);
  let first: { at: number; rows: number; cpu: number } | undefined;
  for (;;) {
    for (const d of daemons) if (d.child.exitCode !== null) throw new Error(`liberator exited with ${d.child.exitCode}: ${d.stderr()}`);
    if (Date.now() > deadline) throw new Error(`the sink did not store its last offsets in time: ${daemons.map((d) => d.stderr()).join("\n")}`);
    await sleep(20);
    const stored = await target.stored(connector, filled.topic);
    const rows = storedRows(filled, stored);
    if (rows > from && !first) first = { at: Date.now(), rows, cpu: cpu() };
    if (filled.ends.every((end, p) => (stored.get(p) ?? 0) >= end)) {
      const done = Date.now();
      return { steady: ((ROWS - first!.rows) * 1000) / (done - first!.at), done, cpuUsPerRow: ((cpu() - first!.cpu) * 1e6) / (ROWS - first!.rows), load: loadAverage() };
    }
  }
}

/** Rows written by the offsets stored: offsets count commit markers too, as often in every partition. */
function storedRows(filled: Filled, stored: Map<number, number>): number {
  const offsets = filled.ends.reduce((n, _, p) => n + Math.max(0, stored.get(p) ?? 0), 0);
  return offsets * (ROWS / filled.ends.reduce((n, end) => n + end, 0));
}

const timeoutAt = () => Date.now() + Number(process.env.BENCH_SINK_TIMEOUT_S ?? 900) * 1000;

const sinkConnector = (name: string, target: Target, topic: string) => ({ name, type: "sql", dialect: target.dialect, connection: target.connection, topics: [topic], table: "orders", mode: "upsert" });

export interface OneRun extends Timing {
  total: number;
  rssMb: number;
}

/** `liberator run` (this checkout's build, or `cli`) with one sql sink (one task) until it has stored the topic's last offset. */
export async function runOne(info: HarnessInfo, target: Target, filled: Filled, registryTopic: string, cli = buildLiberator()): Promise<OneRun> {
  const name = uniqueName("bench_sink");
  const file = join(mkdtempSync(join(tmpdir(), "liberator-bench-sink-")), "connectors.yaml");
  writeFileSync(
    file,
    stringify({
      kafka: { brokers: info.kafka.brokers, topics: { replicationFactor: 1 } },
      schemaRegistry: { topic: registryTopic },
      admin: { enabled: false },
      log: { level: "warn" },
      connectors: [sinkConnector(name, target, filled.topic)],
    }),
  );
  // compiled before the clock (the default argument): the first run would count the build as process start
  const started = Date.now();
  const d: Daemon = startLiberator(file, 0, cli);
  try {
    const timing = await untilStored(target, name, filled, [d], 0, timeoutAt());
    return { ...timing, total: (ROWS * 1000) / (timing.done - started), rssMb: d.peakMb() };
  } finally {
    await d.stop();
  }
}

interface TaskView {
  name: string;
  state: string;
  worker: string | null;
  details?: { partitions?: string[] };
}

async function views(admin: string, name: string): Promise<TaskView[]> {
  const res = await fetch(`${admin}/connectors`).catch(() => undefined);
  return res?.ok ? ((await res.json()) as TaskView[]).filter((v) => v.name === name) : [];
}

interface PairRun extends Timing {
  rssMb: number[];
  /** Both workers' log at level info, each line headed by its worker's id. */
  logFile: string;
  /** The sink's name, whose stored offsets are read again when the target does not reconcile. */
  connector: string;
}

/**
 * One sql sink with `tasks: 2` on the topic's two partitions, run by two `liberator run` workers of
 * one cluster, until every partition's last offset is stored. The tasks are paused as soon as their
 * jobs exist (a pause is kept in the job, so a task moved for balance stays paused) and resumed
 * once each worker runs one task that holds one partition.
 */
async function runPair(info: HarnessInfo, target: Target, filled: Filled, registryTopic: string): Promise<PairRun> {
  const name = uniqueName("bench_sink_tasks");
  const dir = mkdtempSync(join(tmpdir(), "liberator-bench-sink-"));
  const logFile = join(dir, "workers.log");
  const prefix = uniqueName("bench_cl");
  const cli = buildLiberator();
  const workers: Daemon[] = [];
  const deadline = timeoutAt();
  try {
    for (const id of ["w1", "w2"]) {
      const port = await freePort();
      const file = join(dir, `${id}.yaml`);
      // info: the assignments, claims and hand-overs, to read when the target does not reconcile
      writeWorkerConfig(file, info, { registryTopic, port, queuePrefix: prefix, workerId: id, logLevel: "info", connectors: [{ ...sinkConnector(name, target, filled.topic), tasks: 2 }] });
      workers.push(startLiberator(file, port, cli, (line) => appendFileSync(logFile, `${id} ${line}\n`)));
    }
    const admin = workers[0]!.admin;
    const control = (op: "pause" | "resume") => fetch(`${admin}/connectors/${name}/${op}`, { method: "POST" }).catch(() => undefined);
    for (;;) {
      for (const d of workers) if (d.child.exitCode !== null) throw new Error(`a worker exited with ${d.child.exitCode}: ${d.stderr()}`);
      if (Date.now() > deadline) throw new Error(`the two tasks did not settle on the two workers: ${JSON.stringify(await views(admin, name))}`);
      const tasks = await views(admin, name);
      const placed = tasks.length === 2 && new Set(tasks.map((t) => t.worker)).size === 2 && tasks.every((t) => t.worker && t.details?.partitions?.length === 1);
      if (placed && tasks.every((t) => t.state === "paused")) break;
      // a task taken by a worker between the pause's job update and its routing starts unpaused
      if (tasks.length === 2 && tasks.some((t) => t.state === "running")) await control("pause");
      await sleep(200);
    }
    const before = storedRows(filled, await target.stored(name, filled.topic));
    const resumed = await control("resume");
    if (!resumed?.ok) throw new Error(`resume failed: ${resumed?.status} ${await resumed?.text()}`);
    const timing = await untilStored(target, name, filled, workers, before, deadline);
    return { ...timing, rssMb: workers.map((d) => d.peakMb()), logFile, connector: name };
  } finally {
    await Promise.all(workers.map((d) => d.stop()));
  }
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
      const encoded = await schemas.serializer.serialize(changeRecords(topic, start, Math.min(ROWS, start + TX)));
      const records: SinkRecord[] = [];
      for (const [i, e] of encoded.entries()) {
        const key = (await schemas.deserializer.deserialize(e.key))!;
        const value = (await schemas.deserializer.deserialize(e.value, sink.valueView))!;
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
  const registryTopic = uniqueName("bench_schemas");
  const kafka = createKafka(kafkaConfigSchema.parse({ brokers: info.kafka.brokers }), log, "bench-schemas");
  const schemas = await createSchemaService(schemaRegistryConfig.parse({ topic: registryTopic }), { kafka, log });
  const want = expected();
  const results: { target: Target; one: OneRun; ceiling: Ceiling; two: PairRun }[] = [];
  let fillSeconds: number;
  let consumer: Ceiling;
  let split: number[];
  try {
    const t0 = Date.now();
    const single: Filled = { topic: `${uniqueName("bench_sink")}.shop.orders`, ends: [] };
    single.ends = await fillTopic(info, schemas, single.topic, 1);
    const pair: Filled = { topic: `${uniqueName("bench_sink2")}.shop.orders`, ends: [] };
    pair.ends = await fillTopic(info, schemas, pair.topic, 2);
    split = pair.ends.map((end) => Math.round(end / (pair.ends.reduce((n, e) => n + e, 0) / ROWS)));
    fillSeconds = (Date.now() - t0) / 1000;
    consumer = await bareConsumer(info.kafka.brokers, single.topic, ROWS);
    for (const make of [postgresTarget, mariadbTarget]) {
      const targets: Target[] = [];
      try {
        const target = await make(info);
        targets.push(target);
        const one = await runOne(info, target, single, registryTopic);
        await reconcile(target, want, "one task");
        const bare = await make(info);
        targets.push(bare);
        const ceiling = await withoutKafka(bare, schemas, single.topic);
        await reconcile(bare, want, "the ceiling");
        await target.empty();
        const two = await runPair(info, target, pair, registryTopic);
        await reconcile(target, want, "two tasks in two processes", async () => {
          // offsets that moved back after the clock saw them at the ends: a write after that moment
          const stored = await target.stored(two.connector, pair.topic);
          const offsets = pair.ends.map((end, p) => `partition ${p}: ${stored.get(p) ?? "none"} of ${end}`).join(", ");
          return `; the workers' log: ${two.logFile}; offsets stored after the workers stopped: ${offsets}; ${await keysInBothPartitions(info, pair.topic)}`;
        });
        results.push({ target, one, ceiling, two });
      } finally {
        await Promise.all(targets.map((t) => t.close()));
      }
    }
  } finally {
    await schemas.close();
  }
  const [p, m] = results as [(typeof results)[0], (typeof results)[0]];
  /** What a sink that only consumed and ran the same statements would spend a row (Avro decoding left out). */
  const parts = (r: (typeof results)[0]) => consumer.cpuUsPerRow + r.ceiling.cpuUsPerRow;
  const mb = (rss: number[]) => rss.map((r) => Math.round(r)).join(" and ");
  const line = (r: (typeof results)[0]) =>
    `${r.target.label}: one task ${Math.round(r.one.steady).toLocaleString("en-US")} rows/s at ${r.one.cpuUsPerRow.toFixed(1)} µs CPU/row, peak RSS ${Math.round(r.one.rssMb)} MB, load ${r.one.load}; ` +
    `without Kafka ${Math.round(r.ceiling.rowsPerS).toLocaleString("en-US")} rows/s at ${r.ceiling.cpuUsPerRow.toFixed(1)} µs CPU/row; ` +
    `two tasks in two processes ${Math.round(r.two.steady).toLocaleString("en-US")} rows/s together at ${r.two.cpuUsPerRow.toFixed(1)} µs CPU/row (both processes), peak RSS ${mb(r.two.rssMb)} MB, load ${r.two.load}`;
  return {
    figures: [
      { name: "upsert into PostgreSQL, from Kafka (Avro, exactly-once)", value: p.one.steady, unit: "rows/s", reference: { value: p.ceiling.rowsPerS, label: "same sink, same statements, no Kafka" } },
      { name: "upsert into MariaDB, from Kafka (Avro, exactly-once)", value: m.one.steady, unit: "rows/s", reference: { value: m.ceiling.rowsPerS, label: "same sink, same statements, no Kafka" } },
      { name: "two tasks in two processes into PostgreSQL, together", value: p.two.steady, unit: "rows/s", reference: { value: p.one.steady, label: "one task" } },
      { name: "two tasks in two processes into MariaDB, together", value: m.two.steady, unit: "rows/s", reference: { value: m.one.steady, label: "one task" } },
      { name: "PostgreSQL, including process start", value: p.one.total, unit: "rows/s" },
      { name: "MariaDB, including process start", value: m.one.total, unit: "rows/s" },
      { name: "kafkajs consumer alone, the same topic (read_committed, nothing done)", value: consumer.rowsPerS, unit: "records/s" },
      { name: "liberator CPU per row, PostgreSQL (user + system)", value: p.one.cpuUsPerRow, unit: "µs", reference: { value: parts(p), label: "consumer alone + statements without Kafka" } },
      { name: "liberator CPU per row, MariaDB (user + system)", value: m.one.cpuUsPerRow, unit: "µs", reference: { value: parts(m), label: "consumer alone + statements without Kafka" } },
      { name: "two tasks: CPU per row of both processes, PostgreSQL", value: p.two.cpuUsPerRow, unit: "µs", reference: { value: p.one.cpuUsPerRow, label: "one task" } },
      { name: "two tasks: CPU per row of both processes, MariaDB", value: m.two.cpuUsPerRow, unit: "µs", reference: { value: m.one.cpuUsPerRow, label: "one task" } },
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
      bare_consumer: { records_per_s: Math.round(consumer.rowsPerS), cpu_us_per_record: round(consumer.cpuUsPerRow) },
      parts_cpu_bound: { pg: ratio(p.ceiling.cpuUsPerRow, parts(p)), mysql: ratio(m.ceiling.cpuUsPerRow, parts(m)) },
      two_tasks_cpu_us_per_row: { pg: round(p.two.cpuUsPerRow), mysql: round(m.two.cpuUsPerRow) },
      rss_mb: Math.round(Math.max(p.one.rssMb, m.one.rssMb, ...p.two.rssMb, ...m.two.rssMb)),
    },
    notes: [
      `${ROWS.toLocaleString("en-US")} change events per topic (${NEW_KEYS.toLocaleString("en-US")} new keys, then ${(ROWS - NEW_KEYS).toLocaleString("en-US")} updates of keys written before) pre-filled in ${fillSeconds.toFixed(1)} s, Kafka transactions of ${TX.toLocaleString("en-US")}: the same records on a topic of one partition (one task) and on one of two (${split.map((n) => n.toLocaleString("en-US")).join(" and ")} records by key)`,
      "rows/s from the first stored offset to the last (read from liberator_offsets every 20 ms); the 'including process start' rows count from spawning `liberator run`",
      "default batch settings (batch.maxRecords 10,000); every batch is one target transaction with its offsets and the epoch check; after every run the target held exactly the keys written, each at its last version (row count and qty sum)",
      "two_tasks_ratio: one sql sink with tasks: 2, run by two `liberator run` workers in cluster mode (Redis), one task and one partition each, paused until both held their partition; the pair's rows/s over one task's; its CPU per row is both processes' together. The 2 cores are shared with the databases, Kafka and Redis, so less than 2x is expected",
      `the bare consumer: kafkajs alone reading the one-partition topic read_committed with the sink's fetch size, records not used: ${Math.round(consumer.rowsPerS).toLocaleString("en-US")} records/s at ${consumer.cpuUsPerRow.toFixed(2)} µs CPU/record. parts_cpu_bound: the statements' CPU per row over theirs plus the consumer's, the ratio a sink that only consumed and wrote could reach where CPU bounds both (Avro decoding left out)`,
      line(p),
      line(m),
    ],
  };
}
