/**
 * The binlog source as users run it: `liberator run` in a child process, Avro through the embedded
 * registry, exactly-once Kafka transactions, on the harness MariaDB and Kafka (same 2 cores).
 *
 * - snapshot: a pre-filled 6-column table, from the connector's start to its last chunk committed;
 * - streaming: rows pre-written in 100-row transactions, then in 1-row transactions, while the
 *   daemon is stopped; the daemon then resumes from its committed position before them, and the
 *   clock runs from its start of streaming to the last row committed in Kafka;
 * - latency: a writer inserts 10,000 rows/s stamped with NOW(6); a read_committed consumer takes
 *   now − stamp for each row; the first seconds after the daemon's start (a cold process: code not
 *   yet optimized, the table's schema registered with its first rows) are reported apart, as the
 *   outbox benchmark does, since a daemon runs for days;
 * - peak RSS (VmHWM) of the liberator process across all of it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import mysql, { type Connection } from "mysql2/promise";
import { pino } from "pino";
import { stringify } from "yaml";
import { ensureTopics } from "../src/runtime/kafka/admin.js";
import { createSchemaService, parseSchemaRegistryConfig } from "../src/runtime/schema-registry/index.js";
import { parseTimestamp } from "../src/runtime/avro/values.js";
import { freePort } from "../test/harness/ports.js";
import { repoRoot } from "../test/harness/paths.js";
import type { HarnessInfo } from "../test/harness/start.js";
import { uniqueName } from "../test/harness/util.js";
import { childNodeArgs } from "./node-args.js";
import type { BenchContext, BenchResult } from "./report.js";

const SNAPSHOT_ROWS = 400_000;
const STREAM_ROWS = 400_000;
const SINGLE_ROW_TXS = 120_000;
const LATENCY_RATE = 10_000;
const LATENCY_SECONDS = 10;
const LATENCY_WARMUP_SECONDS = 2;

const TABLE = `(id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, qty INT NOT NULL, price DECIMAL(10,2) NOT NULL, created DATETIME(6) NOT NULL, active TINYINT NOT NULL)`;

interface Daemon {
  child: ChildProcess;
  admin: string;
  peakKb(): number;
  /** User + system CPU the process has used so far, in seconds (/proc/<pid>/stat). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

async function startLiberator(file: string, admin: string): Promise<Daemon> {
  const child = spawn(process.execPath, [...childNodeArgs(), "--import", "tsx", join(repoRoot, "src/cli.ts"), "run", "-c", file], { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let peak = 0;
  const sample = setInterval(() => {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
    if (m) peak = Math.max(peak, Number(m[1]));
  }, 200);
  child.once("exit", () => clearInterval(sample));
  child.once("exit", (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`liberator exited with ${code}: ${stderr}\n`);
  });
  return {
    child,
    admin,
    peakKb: () => peak,
    cpuSeconds: () => {
      // utime and stime, fields 14 and 15, in clock ticks of 1/100 s
      const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

interface Status {
  state: string;
  records: number;
  details?: { phase?: string };
}

async function status(d: Daemon, name: string): Promise<Status | undefined> {
  const res = await fetch(`${d.admin}/connectors/${name}`).catch(() => undefined);
  return res?.ok ? ((await res.json()) as Status) : undefined;
}

/** Polls until `done`; returns when the connector was first seen running and when `done` held, and the CPU spent between. */
async function timeUntil(d: Daemon, name: string, done: (s: Status) => boolean, timeoutMs = 600_000): Promise<{ started: number; ended: number; cpu: number }> {
  let started = 0;
  let cpu = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (d.child.exitCode !== null) throw new Error("liberator exited");
    const s = await status(d, name);
    if (s && !started && s.state === "running") {
      started = Date.now();
      cpu = d.cpuSeconds();
    }
    if (s && started && done(s)) return { started, ended: Date.now(), cpu: d.cpuSeconds() - cpu };
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${name}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function fill(conn: Connection, table: string, from: number, rows: number, perTransaction: number): Promise<void> {
  if (perTransaction > 1) {
    for (let start = from; start < from + rows; start += perTransaction) {
      await conn.query(
        `INSERT INTO ${table} SELECT seq, CONCAT('name ', seq), seq % 1000, seq / 100, NOW(6), seq % 2 FROM seq_${start}_to_${Math.min(start + perTransaction, from + rows) - 1}`,
      );
    }
    return;
  }
  // one autocommitted INSERT per row, 1000 statements per round trip
  for (let start = from; start < from + rows; start += 1000) {
    const statements: string[] = [];
    for (let id = start; id < Math.min(start + 1000, from + rows); id++) statements.push(`INSERT INTO ${table} VALUES (${id}, 'name ${id}', ${id % 1000}, ${id / 100}, NOW(6), ${id % 2})`);
    await conn.query(statements.join(";"));
  }
}

/** Latency at a steady rate: rows stamped with NOW(6) in UTC, read back read_committed; each list sorted. */
async function latency(info: HarnessInfo, conn: Connection, topic: string, registryTopic: string): Promise<{ warmup: number[]; samples: number[] }> {
  const kafka = new Kafka({ clientId: "bench-binlog", brokers: info.kafka.brokers, logLevel: logLevel.NOTHING });
  const schemas = await createSchemaService(parseSchemaRegistryConfig({ topic: registryTopic }), { kafka, log: pino({ level: "silent" }) });
  const consumer = kafka.consumer({ groupId: uniqueName("bench_binlog"), readUncommitted: false, maxWaitTimeInMs: 5 });
  const warmup: number[] = [];
  const samples: number[] = [];
  const warmupRows = LATENCY_RATE * LATENCY_WARMUP_SECONDS;
  const total = warmupRows + LATENCY_RATE * LATENCY_SECONDS;
  try {
    await ensureTopics(kafka, [{ topic, partitions: 1, replicationFactor: 1 }]);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    // run() returns before the group is joined: rows written meanwhile would time the join, not liberator
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const now = Date.now();
        for (const m of batch.messages) {
          const decoded = (await schemas.deserializer.deserialize(m.value))?.value as { after: { id: number; created: string } } | undefined;
          if (decoded?.after) (decoded.after.id <= warmupRows ? warmup : samples).push(now - Number(parseTimestamp(decoded.after.created, false)) / 1000);
        }
      },
    });
    await joined;
    await conn.query("SET time_zone = '+00:00'");
    const perTick = LATENCY_RATE / 200;
    const t0 = Date.now();
    for (let i = 0; i < total / perTick; i++) {
      const due = t0 + i * 5 - Date.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      const values = Array.from({ length: perTick }, (_, j) => `(${i * perTick + j + 1}, 'n', ${j}, 1.00, NOW(6), 1)`).join(",");
      await conn.query(`INSERT INTO lat VALUES ${values}`);
    }
    const deadline = Date.now() + 30_000;
    while (warmup.length + samples.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  } finally {
    await consumer.disconnect();
    await schemas.close();
  }
  return { warmup: warmup.sort((a, b) => a - b), samples: samples.sort((a, b) => a - b) };
}

export async function run(context: BenchContext): Promise<BenchResult> {
  const info = await context.servers();
  const database = uniqueName("bench_binlog");
  const name = uniqueName("bench_binlog");
  const registryTopic = uniqueName("bench_binlog_schemas");
  const conn = await mysql.createConnection({ ...info.mariadb, multipleStatements: true });
  await conn.query(`CREATE DATABASE ${database}`);
  await conn.query(`USE ${database}`);
  await conn.query(`CREATE TABLE snap ${TABLE}; CREATE TABLE stream100 ${TABLE}; CREATE TABLE stream1 ${TABLE}; CREATE TABLE lat ${TABLE}`);
  await fill(conn, "snap", 1, SNAPSHOT_ROWS, 10_000);

  const dir = mkdtempSync(join(tmpdir(), "liberator-bench-binlog-"));
  const file = join(dir, "connectors.yaml");
  const port = await freePort();
  writeFileSync(
    file,
    stringify({
      kafka: { brokers: info.kafka.brokers, topics: { replicationFactor: 1 } },
      schemaRegistry: { topic: registryTopic },
      admin: { host: "127.0.0.1", port },
      log: { level: "warn" },
      connectors: [
        { name, type: "binlog", connection: { ...info.mariadb }, include: [`${database}.*`], snapshot: { chunkSize: 10_000 } },
      ],
    }),
  );
  const admin = `http://127.0.0.1:${port}`;
  const peaks: Record<string, number> = {};
  const phase = async <T>(label: string, work: (d: Daemon) => Promise<T>): Promise<T> => {
    const d = await startLiberator(file, admin);
    try {
      return await work(d);
    } finally {
      await d.stop();
      peaks[label] = Math.round(d.peakKb() / 1024);
    }
  };

  try {
    const cpuPerRow: Record<string, number> = {};
    const rate = (label: string, rows: number, t: { started: number; ended: number; cpu: number }) => {
      cpuPerRow[label] = (t.cpu * 1e6) / rows;
      return (rows * 1000) / (t.ended - t.started);
    };
    const snapshot = await phase("snapshot", async (d) => rate("snapshot", SNAPSHOT_ROWS, await timeUntil(d, name, (s) => s.details?.phase === "stream" && s.records >= SNAPSHOT_ROWS)));
    await fill(conn, "stream100", 1, STREAM_ROWS, 100);
    const stream100 = await phase("100-row transactions", async (d) => rate("100-row transactions", STREAM_ROWS, await timeUntil(d, name, (s) => s.records >= STREAM_ROWS)));
    await fill(conn, "stream1", 1, SINGLE_ROW_TXS, 1);
    const stream1 = await phase("1-row transactions", async (d) => rate("1-row transactions", SINGLE_ROW_TXS, await timeUntil(d, name, (s) => s.records >= SINGLE_ROW_TXS)));
    const { warmup, samples } = await phase("latency", async (d) => {
      await timeUntil(d, name, (s) => s.details?.phase === "stream");
      return latency(info, conn, `${name}.${database}.lat`, registryTopic);
    });
    const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
    const p50 = quantile(samples, 0.5);
    const p99 = quantile(samples, 0.99);
    const rssMb = Math.max(...Object.values(peaks));
    return {
      figures: [
        { name: "streaming, 100-row transactions", value: stream100, unit: "rows/s", reference: { value: 63_400, label: "Conduit, 2 vCPU" } },
        { name: "streaming, 1-row transactions", value: stream1, unit: "rows/s", reference: { value: 85_600, label: "zongji decoding alone, here" } },
        { name: "snapshot", value: snapshot, unit: "rows/s", reference: { value: 135_700, label: "Debezium, 4 vCPU" } },
        { name: `latency p50 at ${LATENCY_RATE} rows/s`, value: p50, unit: "ms" },
        { name: `latency p99 at ${LATENCY_RATE} rows/s`, value: p99, unit: "ms", reference: { value: 253, label: "Sequin p99 at 50,000 ops/s" } },
        { name: "peak RSS of liberator", value: rssMb, unit: "MB", reference: { value: 2200, label: "Debezium" } },
      ],
      fields: {
        stream_rows_per_s: Math.round(stream100),
        stream_single_row_tx_per_s: Math.round(stream1),
        snapshot_rows_per_s: Math.round(snapshot),
        p50_ms: Math.round(p50 * 10) / 10,
        p99_ms: Math.round(p99 * 10) / 10,
        rss_mb: Math.round(rssMb),
      },
      notes: [
        `liberator run (one binlog connector, Avro, exactly-once transactions, batch.maxRecords 10,000) on the harness MariaDB and Kafka, all on this machine's cores`,
        `snapshot: ${SNAPSHOT_ROWS.toLocaleString("en-US")} rows of a 6-column table, chunks of 10,000; streaming: ${STREAM_ROWS.toLocaleString("en-US")} rows in 100-row and ${SINGLE_ROW_TXS.toLocaleString("en-US")} in 1-row transactions, pre-written, timed from the connector running to the last row committed`,
        `peak RSS per phase (MB): ${Object.entries(peaks).map(([k, v]) => `${k} ${v}`).join(", ")}`,
        `liberator CPU per row (µs, user + system): ${Object.entries(cpuPerRow).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")}`,
        `load average after the run: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")} (the servers and other work share these 2 cores)`,
        `latency: ${samples.length} rows at ${LATENCY_RATE} rows/s (50 rows every 5 ms) from NOW(6) at insert to a read_committed consumer, after ${LATENCY_WARMUP_SECONDS} s of the same from the daemon's start`,
        `latency in those first ${LATENCY_WARMUP_SECONDS} s (${warmup.length} rows, not in p50/p99): p50 ${quantile(warmup, 0.5).toFixed(1)} ms, p99 ${quantile(warmup, 0.99).toFixed(0)} ms, max ${(warmup.at(-1) ?? NaN).toFixed(0)} ms`,
      ],
    };
  } finally {
    await conn.query(`DROP DATABASE ${database}`).catch(() => undefined);
    await conn.end();
  }
}
