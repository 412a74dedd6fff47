/**
 * Liberator beside the tool users would pick instead, in one run on the same cores and broker:
 * Debezium 3.6.1's MySQL connector in its embedded engine (bench/peer/DebeziumPeer.java, compiled
 * with javac against the jars scripts/fetch-jars.sh resolves from Maven Central into .cache/).
 * The Debezium side is shared with the pgcdc benchmark, which runs the PostgreSQL connector the
 * same way (debeziumPeers, peerComparison): a connector kind only supplies its PeerDatabase.
 *
 * The three phases of the binlog benchmark, same table, rows and volumes (BENCH_SCALE applies):
 * a snapshot, rows pre-written in 100-row transactions, then in 1-row transactions, each streamed
 * by a fresh process resuming from its committed offsets. Liberator runs first (`liberator run`,
 * Avro, exactly-once transactions) on the harness MariaDB; then Debezium on a private MariaDB
 * with the same settings, four times: a handler that only counts, and producing JSON to the same
 * broker (acks=all, idempotent), each with the JVM's default heap and with -Xmx512m.
 * Liberator's peak RSS also stands beside the floor of its parts (parts/floor.ts): each phase's
 * reader (the plain SELECT, or zongji) and the bare producer, alone on the same rows, each in a
 * process of its own.
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
import type { HarnessInfo } from "../test/harness/start.js";
import { uniqueName } from "../test/harness/util.js";
import { BATCH, BinlogBench, CHUNK, fill, TABLE, volumes } from "./binlog.js";
import type { PhaseResult } from "./connector-bench.js";
import { loadAverage, measure, ratio, round } from "./daemon.js";
import { partPeakMb } from "./parts/floor.js";
import type { BenchContext, BenchResult, Field, Figure } from "./report.js";

export const DEBEZIUM = "3.6.1.Final";
const PEER_VERSION = "5.7.19-log";
const PHASES = ["snapshot", "stream100", "stream1"] as const;
type Phase = (typeof PHASES)[number];
/** The table of each phase, in both databases. */
const TABLES = { snapshot: "snap", stream100: "stream100", stream1: "stream1" } as const;
type PeerTable = (typeof TABLES)[Phase];

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
type Run = (typeof RUNS)[number];
export type Peers = Record<Run["key"], Record<Phase, Measure>>;

/** Each part's peak RSS alone on a phase's rows (parts/floor.ts): the reader (the plain SELECT or zongji) and the bare producer. */
type Floor = { reader: number; producer: number };

/**
 * One connector kind's side of a Debezium run: a fresh database holding the three phase tables
 * (empty), the engine properties that capture them, and how rows are written into them.
 */
export interface PeerDatabase {
  /** Connector class, connection and table filter; `dir` is the run's own folder (for files the connector keeps). */
  properties(dir: string): Record<string, string>;
  topic(table: PeerTable): string;
  fill(table: PeerTable, rows: number, perTransaction: number): Promise<void>;
  /** Drops the database and whatever the connector left on the server for it. */
  drop(): Promise<void>;
}

/** The jars (fetched once into .cache) and the harness compiled against them; the java classpath. */
export function debeziumClasspath(): string {
  const dest = join(repoRoot, ".cache", "debezium", DEBEZIUM);
  execFileSync("bash", [join(repoRoot, "scripts/fetch-jars.sh"), join(repoRoot, "bench/peer/pom.xml"), dest, `Debezium ${DEBEZIUM}`], { stdio: "inherit" });
  const libs = join(dest, "libs", "*");
  const classes = join(dest, "classes");
  execFileSync("javac", ["-d", classes, "-cp", libs, join(repoRoot, "bench/peer/DebeziumPeer.java")], { stdio: "inherit" });
  return `${classes}:${libs}`;
}

/** One run of the Java harness until `expected` records of `topic`; then "stop" (the engine commits its offsets). */
async function debeziumPhase(cp: string, run: Run, props: string, topic: string, expected: number): Promise<Measure> {
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

/** The three phases with one Debezium set-up, on a fresh database that `open` makes. */
async function debezium(cp: string, brokers: string[], run: Run, rows: Record<Phase, number>, open: (name: string) => Promise<PeerDatabase>): Promise<Record<Phase, Measure>> {
  const name = uniqueName("bench_peer");
  const db = await open(name);
  try {
    return await phases(cp, brokers, run, rows, name, db);
  } finally {
    await db.drop();
  }
}

async function phases(cp: string, brokers: string[], run: Run, rows: Record<Phase, number>, name: string, db: PeerDatabase): Promise<Record<Phase, Measure>> {
  const dir = mkdtempSync(join(tmpdir(), "liberator-bench-peer-"));
  const props = join(dir, "engine.properties");
  writeFileSync(
    props,
    Object.entries({
      name,
      "offset.storage": "org.apache.kafka.connect.storage.FileOffsetBackingStore",
      "offset.storage.file.filename": join(dir, "offsets.dat"),
      "offset.flush.interval.ms": "1000",
      "topic.prefix": name,
      "snapshot.mode": "initial",
      ...db.properties(dir),
      "peer.kafka.bootstrap.servers": brokers.join(","),
    })
      .map(([k, v]) => `${k}=${v.replace(/\\/g, "\\\\")}`)
      .join("\n"),
  );
  if (run.mode === "kafka") {
    const kafka = new Kafka({ clientId: "bench-peer", brokers, logLevel: logLevel.NOTHING });
    await ensureTopics(kafka, PHASES.map((p) => ({ topic: db.topic(TABLES[p]), partitions: 1, replicationFactor: 1 })));
  }
  const measured: Partial<Record<Phase, Measure>> = {};
  for (const phase of PHASES) {
    await db.fill(TABLES[phase], rows[phase], { snapshot: 10_000, stream100: 100, stream1: 1 }[phase]);
    measured[phase] = await debeziumPhase(cp, run, props, db.topic(TABLES[phase]), rows[phase]);
  }
  return measured as Record<Phase, Measure>;
}

/** Every run of RUNS (handler only and into Kafka, default heap and -Xmx512m), each on a database of its own. */
export async function debeziumPeers(cp: string, brokers: string[], rows: Record<Phase, number>, open: (name: string) => Promise<PeerDatabase>): Promise<Peers> {
  const peers: Partial<Peers> = {};
  for (const r of RUNS) peers[r.key] = await debezium(cp, brokers, r, rows, open);
  return peers as Peers;
}

const fieldsOf = (m: Measure): Field => ({ rows_per_s: Math.round(m.rowsPerS), cpu_us_per_row: round(m.cpuUsPerRow), rss_mb: Math.round(m.rssMb) });

/**
 * Liberator's three phases beside Debezium's: the table's figures, the JSON fields (each phase's
 * figures per run, and the ratios to Debezium into Kafka with its default heap) and a line per phase.
 */
export function peerComparison(
  liberator: Record<Phase, PhaseResult>,
  peers: Peers,
  rows: Record<Phase, number>,
  floors?: Record<Phase, Floor>,
): { figures: Figure[]; fields: Record<string, Field>; notes: string[] } {
  const kafkaPeer = peers.debezium_kafka;
  const figures: Figure[] = [];
  const notes = [
    `rows: ${rows.snapshot.toLocaleString("en-US")} snapshot, ${rows.stream100.toLocaleString("en-US")} in 100-row transactions, ${rows.stream1.toLocaleString("en-US")} in 1-row transactions; rows/s and CPU from the task's start (Debezium) or the connector running (Liberator) to the last row counted (Debezium: acknowledged by Kafka, or handed to the counting handler) or committed (Liberator); peak RSS (VmHWM) of the process over the phase`,
  ];
  const fields: Record<string, Field> = {};
  const ratios: Record<string, Record<string, Field>> = { ratio_rows_per_s: {}, ratio_cpu_us_per_row: {}, ratio_rss_mb: {}, ratio_rss_mb_xmx512m: {} };
  const floorFields: Record<string, Field> = {};
  const floorRatios: Record<string, Field> = {};
  for (const phase of PHASES) {
    const ours = liberator[phase];
    const label = { snapshot: "snapshot", stream100: "100-row transactions", stream1: "1-row transactions" }[phase];
    figures.push(
      { name: `${label}, rows/s`, value: ours.rowsPerS, unit: "rows/s", reference: { value: kafkaPeer[phase].rowsPerS, label: "Debezium into Kafka" } },
      { name: `${label}, rows/s`, value: ours.rowsPerS, unit: "rows/s", reference: { value: peers.debezium_handler[phase].rowsPerS, label: "Debezium, handler only" } },
      { name: `${label}, CPU per row`, value: ours.cpuUsPerRow, unit: "µs", reference: { value: kafkaPeer[phase].cpuUsPerRow, label: "Debezium into Kafka" } },
      { name: `${label}, peak RSS`, value: ours.rssMb, unit: "MB", reference: { value: kafkaPeer[phase].rssMb, label: "Debezium into Kafka" } },
      { name: `${label}, peak RSS`, value: ours.rssMb, unit: "MB", reference: { value: peers.debezium_kafka_xmx512m[phase].rssMb, label: "Debezium into Kafka, -Xmx512m" } },
    );
    fields[phase] = { liberator: fieldsOf(ours), ...Object.fromEntries(RUNS.map((r) => [r.key, fieldsOf(peers[r.key][phase])])) };
    ratios.ratio_rows_per_s![phase] = ratio(ours.rowsPerS, kafkaPeer[phase].rowsPerS);
    ratios.ratio_cpu_us_per_row![phase] = ratio(ours.cpuUsPerRow, kafkaPeer[phase].cpuUsPerRow);
    ratios.ratio_rss_mb![phase] = ratio(ours.rssMb, kafkaPeer[phase].rssMb);
    ratios.ratio_rss_mb_xmx512m![phase] = ratio(ours.rssMb, peers.debezium_kafka_xmx512m[phase].rssMb);
    const line = (who: string, m: Measure) => `${who} ${Math.round(m.rowsPerS).toLocaleString("en-US")} rows/s, ${m.cpuUsPerRow.toFixed(1)} µs CPU/row, ${Math.round(m.rssMb)} MB (load ${m.load})`;
    notes.push(`${label}: ${[line("Liberator", ours), ...RUNS.map((r) => line(r.label, peers[r.key][phase]))].join("; ")}`);
    const floor = floors?.[phase];
    if (floor) {
      const floorMb = Math.max(floor.reader, floor.producer);
      const share = ratio(floorMb, kafkaPeer[phase].rssMb);
      figures.push({ name: `${label}, peak RSS`, value: ours.rssMb, unit: "MB", reference: { value: floorMb, label: "the parts alone (floor)" } });
      floorFields[phase] = { reader: Math.round(floor.reader), producer: Math.round(floor.producer) };
      floorRatios[phase] = share;
      notes.push(
        `${label}, the parts alone: ${phase === "snapshot" ? "the plain SELECT" : "zongji"} ${Math.round(floor.reader)} MB, the bare producer ${Math.round(floor.producer)} MB; that floor is ${share} of Debezium into Kafka, whose eighth is ${Math.round(kafkaPeer[phase].rssMb / 8)} MB`,
      );
    }
  }
  notes.push("ratios: Liberator / Debezium into Kafka with its default heap (rows/s: higher is better; CPU and RSS: lower is better)");
  if (floors) Object.assign(fields, { floor_rss_mb: floorFields, ratio_floor_rss_mb: floorRatios });
  return { figures, fields: { ...fields, ...ratios }, notes };
}

/**
 * The parts alone on Liberator's rows, each in a process of its own: the snapshot's reader is the
 * plain chunked SELECT of its table, a stream's is zongji from where its rows start; the producer
 * sends as many records of the phase's sizes.
 */
async function partFloors(
  info: HarnessInfo,
  b: BinlogBench,
  rows: Record<Phase, number>,
  liberator: Record<Phase, PhaseResult>,
  starts: Record<"stream100" | "stream1", { file: string; pos: number }>,
): Promise<Record<Phase, Floor>> {
  const producer = (phase: Phase) =>
    partPeakMb({ part: "producer", brokers: info.kafka.brokers, shape: { records: rows[phase], keyBytes: liberator[phase].keyBytes, valueBytes: liberator[phase].valueBytes, perTransaction: BATCH } });
  const zongji = (phase: "stream100" | "stream1") =>
    partPeakMb({ part: "zongji", server: info.mariadb, start: starts[phase], database: b.database, table: TABLES[phase], rows: rows[phase] });
  return {
    snapshot: { reader: await partPeakMb({ part: "select", server: info.mariadb, database: b.database, table: TABLES.snapshot, chunk: CHUNK, rows: rows.snapshot }), producer: await producer("snapshot") },
    stream100: { reader: await zongji("stream100"), producer: await producer("stream100") },
    stream1: { reader: await zongji("stream1"), producer: await producer("stream1") },
  };
}

/** A database of the peer's private MariaDB, captured by Debezium's MySQL connector. */
async function mariadbPeer(server: MariaDBServer, name: string): Promise<PeerDatabase> {
  const conn = await mysql.createConnection({ host: server.host, port: server.port, user: server.user, password: server.password, multipleStatements: true });
  await conn.query(`CREATE DATABASE ${name}`);
  await conn.query(`USE ${name}`);
  await conn.query(Object.values(TABLES).map((t) => `CREATE TABLE ${t} ${TABLE}`).join(";"));
  return {
    properties: (dir) => ({
      "connector.class": "io.debezium.connector.mysql.MySqlConnector",
      "schema.history.internal": "io.debezium.storage.file.history.FileSchemaHistory",
      "schema.history.internal.file.filename": join(dir, "history.dat"),
      "database.hostname": server.host,
      "database.port": String(server.port),
      "database.user": server.user,
      "database.password": server.password,
      "database.server.id": String(7_000_000 + Math.floor(Math.random() * 1_000_000)),
      "database.ssl.mode": "disabled",
      "database.include.list": name,
      "include.schema.changes": "false",
    }),
    topic: (table) => `${name}.${name}.${table}`,
    fill: (table, rows, perTransaction) => fill(conn, table, 1, rows, perTransaction),
    drop: async () => {
      await conn.query(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
      await conn.end();
    },
  };
}

export async function run(context: BenchContext): Promise<BenchResult> {
  const info = await context.servers();
  const rows = volumes();
  const cp = debeziumClasspath();

  const b = await BinlogBench.open(info, rows.snapshot);
  let liberator: Record<Phase, PhaseResult>;
  let floors: Record<Phase, Floor>;
  try {
    const snapshot = await b.snapshot(rows.snapshot);
    const stream100 = await b.stream("stream100", rows.stream100, 100);
    const stream1 = await b.stream("stream1", rows.stream1, 1);
    liberator = { snapshot, stream100, stream1 };
    floors = await partFloors(info, b, rows, liberator, { stream100: stream100.start, stream1: stream1.start });
  } finally {
    await b.close();
  }

  const server = await startMariaDB({ extraArgs: [`--version=${PEER_VERSION}`] });
  let peers: Peers;
  try {
    peers = await debeziumPeers(cp, info.kafka.brokers, rows, (name) => mariadbPeer(server, name));
  } finally {
    await server.stop();
  }

  const comparison = peerComparison(liberator, peers, rows, floors);
  return {
    figures: comparison.figures,
    fields: comparison.fields,
    notes: [
      `Liberator: liberator run, one binlog connector, Avro (embedded registry), exactly-once Kafka transactions, on the harness MariaDB; Debezium ${DEBEZIUM}: embedded engine, MySQL connector, offsets and schema history in files, on a private MariaDB with the same settings started with --version=${PEER_VERSION} (Debezium's MySQL connector refuses MariaDB 10.11 as it reports itself); both into the same broker, on the same 2 cores`,
      ...comparison.notes,
    ],
  };
}
