/**
 * The sql sink from Kafka into PostgreSQL and into MariaDB, as users run it: the real
 * `liberator run` in its own process, read_committed, Avro in the wire format, rows and offsets in
 * one target transaction per batch, upsert mode. A topic is first filled with change events of a
 * 6-column table (bigint key, varchar, int, decimal(10,2), datetime(6), boolean) exactly as a
 * source writes them; then each target gets a fresh database and a sink, and the clock runs from
 * the sink's first stored offset to its last, read from liberator_offsets.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import pg from "pg";
import { pino } from "pino";
import { stringify } from "yaml";
import type { ChangeRecord } from "../src/runtime/connector.js";
import { ensureTopics } from "../src/runtime/kafka/admin.js";
import { createKafka } from "../src/runtime/kafka/client.js";
import { kafkaConfigSchema } from "../src/runtime/kafka/config.js";
import { TransactionalProducer } from "../src/runtime/kafka/producer.js";
import { envelope, tableStream } from "../src/runtime/sql-types/envelope.js";
import { schemaRegistryConfig } from "../src/runtime/schema-registry/config.js";
import { createSchemaService } from "../src/runtime/schema-registry/index.js";
import type { ColumnInfo } from "../src/runtime/sql-types/mapping.js";
import { repoRoot } from "../test/harness/paths.js";
import type { HarnessInfo } from "../test/harness/start.js";
import { uniqueName } from "../test/harness/util.js";
import { childNodeArgs } from "./node-args.js";
import type { BenchContext, BenchResult } from "./report.js";

const ROWS = Number(process.env.BENCH_SINK_ROWS ?? 1_000_000);
const TX = 10_000;
const TICKS_PER_SECOND = 100;

const COLUMNS: ColumnInfo[] = [
  { name: "id", dialect: "mysql", sqlType: "bigint(20)", nullable: false },
  { name: "name", dialect: "mysql", sqlType: "varchar(64)", nullable: false },
  { name: "qty", dialect: "mysql", sqlType: "int(11)", nullable: false },
  { name: "price", dialect: "mysql", sqlType: "decimal(10,2)", nullable: false },
  { name: "created", dialect: "mysql", sqlType: "datetime(6)", nullable: false },
  { name: "active", dialect: "mysql", sqlType: "tinyint(1)", nullable: false },
];

const log = pino({ level: "silent" });

/** Fills the topic; returns the offset the sink stores after the last record (its commit marker's). */
async function fillTopic(info: HarnessInfo, topic: string, registryTopic: string): Promise<number> {
  const kafka = createKafka(kafkaConfigSchema.parse({ brokers: info.kafka.brokers }), log, "bench-fill");
  await ensureTopics(kafka, [{ topic, partitions: 1, replicationFactor: 1 }]);
  const schemas = await createSchemaService(schemaRegistryConfig.parse({ topic: registryTopic }), { kafka, log });
  const producer = new TransactionalProducer(kafka, { transactionalId: uniqueName("bench_fill"), connector: "bench", transactionTimeoutMs: 60_000 });
  await producer.connect();
  const stream = tableStream({ columns: COLUMNS, primaryKey: ["id"] }, { topic });
  const source = { connector: "binlog", name: "bench", db: "shop", table: "orders", ts_ms: Date.now() };
  try {
    for (let start = 0; start < ROWS; start += TX) {
      const records: ChangeRecord[] = [];
      for (let i = start; i < Math.min(ROWS, start + TX); i++) {
        const row = {
          id: BigInt(i),
          name: `customer-${i % 50_000}`,
          qty: i % 1000,
          price: `${1 + Math.floor((i % 100_000) / 100)}.${String(i % 100).padStart(2, "0")}`,
          created: `2024-03-01T12:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}.${String(i % 1_000_000).padStart(6, "0")}`,
          active: i % 2,
        };
        records.push({ topic, key: { id: row.id }, keySchema: stream.keySchema, value: envelope("c", null, row, source), valueSchema: stream.valueSchema });
      }
      const encoded = await schemas.serializer.serialize(records);
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
    await schemas.close();
  }
}

interface Target {
  label: string;
  dialect: "postgres" | "mysql";
  connection: Record<string, unknown>;
  /** next_offset stored for the topic, 0 before the first commit. */
  stored(): Promise<number>;
  close(): Promise<void>;
}

async function postgresTarget(info: HarnessInfo, connector: string, topic: string): Promise<Target> {
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
    stored: async () => {
      const r = await client.query<{ o: string }>("SELECT next_offset AS o FROM liberator_offsets WHERE connector = $1 AND topic = $2", [connector, topic]).catch(() => ({ rows: [] }));
      return Number(r.rows[0]?.o ?? 0);
    },
    close: () => client.end(),
  };
}

async function mariadbTarget(info: HarnessInfo, connector: string, topic: string): Promise<Target> {
  const database = uniqueName("bench_sink");
  const conn = await mysql.createConnection(info.mariadb);
  await conn.query(`CREATE DATABASE ${database}`);
  await conn.query(`USE ${database}`);
  return {
    label: "MariaDB 10.11",
    dialect: "mysql",
    connection: { ...info.mariadb, database },
    stored: async () => {
      const [rows] = await conn.query("SELECT next_offset AS o FROM liberator_offsets WHERE connector = ? AND topic = ?", [connector, topic]).catch(() => [[]]);
      return Number((rows as { o: string }[])[0]?.o ?? 0);
    },
    close: () => conn.end(),
  };
}

/** Runs `liberator run` with one sql sink until it has stored the topic's last offset; rows/s and peak RSS. */
async function runSink(info: HarnessInfo, target: Target, connector: string, topic: string, registryTopic: string, end: number) {
  const dir = mkdtempSync(join(tmpdir(), "liberator-bench-sink-"));
  const file = join(dir, "connectors.yaml");
  writeFileSync(
    file,
    stringify({
      kafka: { brokers: info.kafka.brokers, topics: { replicationFactor: 1 } },
      schemaRegistry: { topic: registryTopic },
      admin: { enabled: false },
      log: { level: "warn" },
      connectors: [{ name: connector, type: "sql", dialect: target.dialect, connection: target.connection, topics: [topic], table: "orders", mode: "upsert" }],
    }),
  );
  const started = Date.now();
  const child = spawn(process.execPath, [...childNodeArgs(), "--import", "tsx", join(repoRoot, "src/cli.ts"), "run", "-c", file], { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  let peakKb = 0;
  /** User + system CPU of the child so far, in clock ticks (fields 14 and 15 of /proc/pid/stat). */
  const ticks = () => {
    const stat = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(stat[11]) + Number(stat[12]);
  };
  const rss = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // the process has not started or has exited
    }
  };
  let first: { at: number; offset: number; ticks: number } | undefined;
  let stored = 0;
  let done: number;
  let doneTicks: number;
  try {
    while (stored < end) {
      if (child.exitCode !== null) throw new Error(`liberator exited with ${child.exitCode}: ${stderr.slice(-2000)}`);
      if (Date.now() - started > 600_000) throw new Error(`only offset ${stored} of ${end} stored after 10 minutes`);
      await new Promise((r) => setTimeout(r, 20));
      stored = await target.stored();
      rss();
      if (stored > 0 && !first) first = { at: Date.now(), offset: stored, ticks: ticks() };
    }
    done = Date.now();
    doneTicks = ticks();
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
  // offsets count commit markers too (one per TX records): rows are what the rate is of
  const rows = (offset: number) => offset * (ROWS / end);
  const steady = ((ROWS - rows(first!.offset)) * 1000) / (done - first!.at);
  const total = (ROWS * 1000) / (done - started);
  const cpuMicrosPerRow = (((doneTicks - first!.ticks) / TICKS_PER_SECOND) * 1e6) / (ROWS - rows(first!.offset));
  return { steady, total, cpuMicrosPerRow, rssMb: peakKb / 1024, seconds: (done - started) / 1000 };
}

export async function run(context: BenchContext): Promise<BenchResult> {
  const info = await context.servers();
  const topic = `${uniqueName("bench_sink")}.shop.orders`;
  const registryTopic = uniqueName("bench_schemas");
  const t0 = Date.now();
  const end = await fillTopic(info, topic, registryTopic);
  const fillSeconds = (Date.now() - t0) / 1000;

  const results = [];
  for (const make of [postgresTarget, mariadbTarget]) {
    const connector = uniqueName("bench_sink");
    const target = await make(info, connector, topic);
    try {
      results.push({ target, ...(await runSink(info, target, connector, topic, registryTopic, end)) });
    } finally {
      await target.close();
    }
  }
  const [pgResult, myResult] = results;
  return {
    figures: [
      { name: "upsert into PostgreSQL, from Kafka (Avro, exactly-once)", value: pgResult!.steady, unit: "rows/s", reference: { value: 181_800, label: "Confluent JDBC sink, 16 tasks, large host" } },
      { name: "upsert into MariaDB, from Kafka (Avro, exactly-once)", value: myResult!.steady, unit: "rows/s", reference: { value: 2_300, label: "Debezium JDBC sink" } },
      { name: "PostgreSQL, including process start", value: pgResult!.total, unit: "rows/s" },
      { name: "MariaDB, including process start", value: myResult!.total, unit: "rows/s" },
      { name: "liberator CPU per row, PostgreSQL (user + system)", value: pgResult!.cpuMicrosPerRow, unit: "µs" },
      { name: "liberator CPU per row, MariaDB (user + system)", value: myResult!.cpuMicrosPerRow, unit: "µs" },
      { name: "peak RSS of liberator (PostgreSQL run)", value: pgResult!.rssMb, unit: "MB" },
      { name: "peak RSS of liberator (MariaDB run)", value: myResult!.rssMb, unit: "MB" },
    ],
    fields: { pg_rows_per_s: Math.round(pgResult!.steady), mysql_rows_per_s: Math.round(myResult!.steady) },
    notes: [
      `${ROWS.toLocaleString("en-US")} change events (op c) pre-filled in ${fillSeconds.toFixed(1)} s, one partition, Kafka transactions of ${TX.toLocaleString("en-US")}`,
      "rows/s from the sink's first stored offset to its last (read from liberator_offsets every 20 ms); the 'including process start' rows count from spawning `liberator run`",
      "default batch settings (batch.maxRecords 10,000); every batch is one target transaction with its offsets and the epoch check",
      "the databases, the broker and liberator share the machine's 2 cores: CPU per row is the figure load moves least",
      `load average after the runs: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
    ],
  };
}
