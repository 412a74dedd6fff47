/**
 * Liberator beside the tool users would pick instead, in one run on the same cores and broker:
 * Debezium 3.6.1's MySQL connector in its embedded engine (bench/peer/DebeziumPeer.java, compiled
 * with javac against the jars scripts/fetch-jars.sh resolves from Maven Central into .cache/).
 *
 * The three phases of the binlog benchmark, same table, rows and volumes (BENCH_SCALE applies):
 * a snapshot, rows pre-written in 100-row transactions, then in 1-row transactions, each streamed
 * by a fresh process resuming from its committed offsets. Liberator runs first (`liberator run`,
 * Avro, exactly-once transactions) on the harness MariaDB; then Debezium on a private MariaDB
 * with the same settings, four times: a handler that only counts, and producing JSON to the same
 * broker (acks=all, idempotent), each with the JVM's default heap and with -Xmx512m.
 *
 * Debezium 3.6.1's MySQL connector refuses MariaDB 10.11 at validation (it reads major version 10
 * as newer than MySQL 8.4 and expects SHOW BINARY LOG STATUS); its private mariadbd therefore
 * reports `--version=5.7.19-log`: below 5.7.20, or the MySQL JDBC driver asks for
 * `transaction_isolation`, and without "MariaDB", or its binlog client switches to MariaDB
 * transaction markers (which lost a row after a restart). debezium-connector-mariadb is not served
 * where this runs.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Kafka, logLevel } from "kafkajs";
import mysql from "mysql2/promise";
import { ensureTopics } from "../src/runtime/kafka/admin.js";
import { startMariaDB, type MariaDBServer } from "../test/harness/mariadb.js";
import { repoRoot } from "../test/harness/paths.js";
import { uniqueName } from "../test/harness/util.js";
import { BinlogBench, fill, TABLE, volumes } from "./binlog.js";
import type { PhaseResult } from "./connector-bench.js";
import { loadAverage, measure, ratio, round } from "./daemon.js";
import type { BenchContext, BenchResult, Field, Figure } from "./report.js";

const DEBEZIUM = "3.6.1.Final";
const PEER_VERSION = "5.7.19-log";
const PHASES = ["snapshot", "stream100", "stream1"] as const;
type Phase = (typeof PHASES)[number];

interface Measure {
  rowsPerS: number;
  cpuUsPerRow: number;
  rssMb: number;
  load: string;
}

const RUNS = [
  { key: "debezium_handler", mode: "handler", heap: undefined, label: "Debezium, handler only" },
  { key: "debezium_kafka", mode: "kafka", heap: undefined, label: "Debezium into Kafka (JSON, acks=all)" },
  { key: "debezium_handler_xmx512m", mode: "handler", heap: "-Xmx512m", label: "Debezium, handler only, -Xmx512m" },
  { key: "debezium_kafka_xmx512m", mode: "kafka", heap: "-Xmx512m", label: "Debezium into Kafka, -Xmx512m" },
] as const;

/** The jars (fetched once into .cache) and the harness compiled against them; the java classpath. */
function classpath(): string {
  const dest = join(repoRoot, ".cache", "debezium", DEBEZIUM);
  execFileSync("bash", [join(repoRoot, "scripts/fetch-jars.sh"), join(repoRoot, "bench/peer/pom.xml"), dest, `Debezium ${DEBEZIUM}`], { stdio: "inherit" });
  const libs = join(dest, "libs", "*");
  const classes = join(dest, "classes");
  execFileSync("javac", ["-d", classes, "-cp", libs, join(repoRoot, "bench/peer/DebeziumPeer.java")], { stdio: "inherit" });
  return `${classes}:${libs}`;
}

/** One run of the Java harness until `expected` records of `topic`; then "stop" (the engine commits its offsets). */
async function debeziumPhase(cp: string, run: (typeof RUNS)[number], props: string, topic: string, expected: number): Promise<Measure> {
  const args = [...(run.heap ? [run.heap] : []), "-cp", cp, "DebeziumPeer", run.mode, props, topic, String(expected)];
  const child = spawn("java", args, { stdio: ["pipe", "pipe", "pipe"] });
  const m = measure(child);
  const events = createInterface({ input: child.stdout });
  try {
    const done = await new Promise<{ ms: number; cpuMs: number }>((resolve, reject) => {
      let count = 0;
      let changed = Date.now();
      // the harness prints progress every second; a count that stops short of `expected` means lost rows
      const idle = setInterval(() => {
        if (Date.now() - changed > 120_000) reject(new Error(`Debezium (${run.label}) stopped at ${count} of ${expected} rows of ${topic} for 120 s`));
      }, 1000);
      child.once("exit", (code) => reject(new Error(`Debezium exited with ${code}: ${m.stderr()}`)));
      events.on("line", (line) => {
        if (!line.startsWith("{")) return;
        const e = JSON.parse(line) as { event: string; count?: number; ms?: number; cpuMs?: number; message?: string };
        if (e.count !== undefined && e.count !== count) [count, changed] = [e.count, Date.now()];
        if (e.event === "failed") reject(new Error(`Debezium failed: ${e.message}`));
        if (e.event === "done") {
          clearInterval(idle);
          resolve({ ms: e.ms!, cpuMs: e.cpuMs! });
        }
      });
    });
    return { rowsPerS: (expected * 1000) / done.ms, cpuUsPerRow: (done.cpuMs * 1000) / expected, rssMb: m.peakMb(), load: loadAverage() };
  } finally {
    const stopped = new Promise((r) => child.once("exit", r));
    child.stdin.end("stop\n");
    const killer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    await stopped;
    clearTimeout(killer);
  }
}

/** The three phases with one Debezium set-up, on a fresh database of the peer server. */
async function debezium(cp: string, server: MariaDBServer, brokers: string[], run: (typeof RUNS)[number], rows: ReturnType<typeof volumes>): Promise<Record<Phase, Measure>> {
  const database = uniqueName("bench_peer");
  const conn = await mysql.createConnection({ host: server.host, port: server.port, user: server.user, password: server.password, multipleStatements: true });
  const dir = mkdtempSync(join(tmpdir(), "liberator-bench-peer-"));
  const props = join(dir, "engine.properties");
  const topic = (table: string) => `${database}.${database}.${table}`;
  writeFileSync(
    props,
    Object.entries({
      name: database,
      "connector.class": "io.debezium.connector.mysql.MySqlConnector",
      "offset.storage": "org.apache.kafka.connect.storage.FileOffsetBackingStore",
      "offset.storage.file.filename": join(dir, "offsets.dat"),
      "offset.flush.interval.ms": "1000",
      "schema.history.internal": "io.debezium.storage.file.history.FileSchemaHistory",
      "schema.history.internal.file.filename": join(dir, "history.dat"),
      "database.hostname": server.host,
      "database.port": String(server.port),
      "database.user": server.user,
      "database.password": server.password,
      "database.server.id": String(7_000_000 + Math.floor(Math.random() * 1_000_000)),
      "database.ssl.mode": "disabled",
      "topic.prefix": database,
      "database.include.list": database,
      "include.schema.changes": "false",
      "snapshot.mode": "initial",
      "peer.kafka.bootstrap.servers": brokers.join(","),
    })
      .map(([k, v]) => `${k}=${v.replace(/\\/g, "\\\\")}`)
      .join("\n"),
  );
  try {
    await conn.query(`CREATE DATABASE ${database}`);
    await conn.query(`USE ${database}`);
    await conn.query(PHASES.map((t) => `CREATE TABLE ${t === "snapshot" ? "snap" : t} ${TABLE}`).join(";"));
    if (run.mode === "kafka") {
      const kafka = new Kafka({ clientId: "bench-peer", brokers, logLevel: logLevel.NOTHING });
      await ensureTopics(kafka, ["snap", "stream100", "stream1"].map((t) => ({ topic: topic(t), partitions: 1, replicationFactor: 1 })));
    }
    await fill(conn, "snap", 1, rows.snapshot, 10_000);
    const snapshot = await debeziumPhase(cp, run, props, topic("snap"), rows.snapshot);
    await fill(conn, "stream100", 1, rows.stream100, 100);
    const stream100 = await debeziumPhase(cp, run, props, topic("stream100"), rows.stream100);
    await fill(conn, "stream1", 1, rows.stream1, 1);
    const stream1 = await debeziumPhase(cp, run, props, topic("stream1"), rows.stream1);
    return { snapshot, stream100, stream1 };
  } finally {
    await conn.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await conn.end();
  }
}

const fieldsOf = (m: Measure): Field => ({ rows_per_s: Math.round(m.rowsPerS), cpu_us_per_row: round(m.cpuUsPerRow), rss_mb: Math.round(m.rssMb) });

export async function run(context: BenchContext): Promise<BenchResult> {
  const info = await context.servers();
  const rows = volumes();
  const cp = classpath();

  const b = await BinlogBench.open(info, rows.snapshot);
  let liberator: Record<Phase, PhaseResult>;
  try {
    const snapshot = await b.snapshot(rows.snapshot);
    const stream100 = await b.stream("stream100", rows.stream100, 100);
    const stream1 = await b.stream("stream1", rows.stream1, 1);
    liberator = { snapshot, stream100, stream1 };
  } finally {
    await b.close();
  }

  const server = await startMariaDB({ extraArgs: [`--version=${PEER_VERSION}`] });
  const peers: Partial<Record<(typeof RUNS)[number]["key"], Record<Phase, Measure>>> = {};
  try {
    for (const r of RUNS) peers[r.key] = await debezium(cp, server, info.kafka.brokers, r, rows);
  } finally {
    await server.stop();
  }

  const kafkaPeer = peers.debezium_kafka!;
  const figures: Figure[] = [];
  const notes: string[] = [];
  const fields: Record<string, Field> = {};
  const ratios: Record<string, Record<string, Field>> = { ratio_rows_per_s: {}, ratio_cpu_us_per_row: {}, ratio_rss_mb: {}, ratio_rss_mb_xmx512m: {} };
  for (const phase of PHASES) {
    const ours = liberator[phase];
    const label = { snapshot: "snapshot", stream100: "100-row transactions", stream1: "1-row transactions" }[phase];
    figures.push(
      { name: `${label}, rows/s`, value: ours.rowsPerS, unit: "rows/s", reference: { value: kafkaPeer[phase].rowsPerS, label: "Debezium into Kafka" } },
      { name: `${label}, rows/s`, value: ours.rowsPerS, unit: "rows/s", reference: { value: peers.debezium_handler![phase].rowsPerS, label: "Debezium, handler only" } },
      { name: `${label}, CPU per row`, value: ours.cpuUsPerRow, unit: "µs", reference: { value: kafkaPeer[phase].cpuUsPerRow, label: "Debezium into Kafka" } },
      { name: `${label}, peak RSS`, value: ours.rssMb, unit: "MB", reference: { value: kafkaPeer[phase].rssMb, label: "Debezium into Kafka" } },
      { name: `${label}, peak RSS`, value: ours.rssMb, unit: "MB", reference: { value: peers.debezium_kafka_xmx512m![phase].rssMb, label: "Debezium into Kafka, -Xmx512m" } },
    );
    fields[phase] = { liberator: fieldsOf(ours), ...Object.fromEntries(RUNS.map((r) => [r.key, fieldsOf(peers[r.key]![phase])])) };
    ratios.ratio_rows_per_s![phase] = ratio(ours.rowsPerS, kafkaPeer[phase].rowsPerS);
    ratios.ratio_cpu_us_per_row![phase] = ratio(ours.cpuUsPerRow, kafkaPeer[phase].cpuUsPerRow);
    ratios.ratio_rss_mb![phase] = ratio(ours.rssMb, kafkaPeer[phase].rssMb);
    ratios.ratio_rss_mb_xmx512m![phase] = ratio(ours.rssMb, peers.debezium_kafka_xmx512m![phase].rssMb);
    const line = (who: string, m: Measure) => `${who} ${Math.round(m.rowsPerS).toLocaleString("en-US")} rows/s, ${m.cpuUsPerRow.toFixed(1)} µs CPU/row, ${Math.round(m.rssMb)} MB (load ${m.load})`;
    notes.push(`${label}: ${[line("Liberator", ours), ...RUNS.map((r) => line(r.label, peers[r.key]![phase]))].join("; ")}`);
  }
  return {
    figures,
    fields: { ...fields, ...ratios },
    notes: [
      `Liberator: liberator run, one binlog connector, Avro (embedded registry), exactly-once Kafka transactions, on the harness MariaDB; Debezium ${DEBEZIUM}: embedded engine, MySQL connector, offsets and schema history in files, on a private MariaDB with the same settings started with --version=${PEER_VERSION} (Debezium's MySQL connector refuses MariaDB 10.11 as it reports itself); both into the same broker, on the same 2 cores`,
      `rows: ${rows.snapshot.toLocaleString("en-US")} snapshot, ${rows.stream100.toLocaleString("en-US")} in 100-row transactions, ${rows.stream1.toLocaleString("en-US")} in 1-row transactions; rows/s and CPU from the task's start (Debezium) or the connector running (Liberator) to the last row counted (Debezium: acknowledged by Kafka, or handed to the counting handler) or committed (Liberator); peak RSS (VmHWM) of the process over the phase`,
      ...notes,
      "ratios: Liberator / Debezium into Kafka with its default heap (rows/s: higher is better; CPU and RSS: lower is better)",
    ],
  };
}
