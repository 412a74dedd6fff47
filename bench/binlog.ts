/**
 * The binlog source as users run it: `liberator run` compiled as the Dockerfile builds it, in a
 * child process, Avro through the embedded registry, exactly-once Kafka transactions, on the
 * harness MariaDB and Kafka (same 2 cores), each figure beside its ceiling measured in the same run:
 *
 * - snapshot: a pre-filled 6-column table, from the connector's start to its last chunk committed;
 *   ceiling: the plain chunked SELECT of the same table (same driver, chunks of 10,000);
 * - streaming: rows pre-written in 100-row transactions, then in 1-row transactions, while the
 *   daemon is stopped; it then resumes from its committed position before them, and the clock runs
 *   from its start of streaming to the last row committed in Kafka; ceiling: zongji alone decoding
 *   the same events from the same position (no Avro, no Kafka);
 * - every phase also beside the bare transactional producer sending as many records of the same
 *   sizes, and every phase's topic read back: each row must arrive exactly once;
 * - live: writers insert flat out (100-row transactions, two connections) while the daemon streams;
 *   the lag of every row, from its writer's commit to a read_committed consumer;
 * - latency: a writer commits 10,000 rows/s; the lag of every row, beside the bare produce →
 *   consume latency at the same rate; the first seconds after the daemon's start (a cold process:
 *   code not yet optimized, the table's schema registered with its first rows) are reported apart,
 *   as the outbox benchmark does, since a daemon runs for days;
 * - CPU of the liberator process per row and its peak RSS (VmHWM), per phase, with the load average.
 *
 * Scale: BENCH_SCALE multiplies the row counts (default 1: 400,000 snapshot rows, 400,000 rows in
 * 100-row transactions, 120,000 1-row transactions); BENCH_LIVE_SECONDS (10) and
 * BENCH_LATENCY_RATE (10,000) set the live phases.
 */
import mysql, { type Connection } from "mysql2/promise";
import type { HarnessInfo } from "../test/harness/start.js";
import { uniqueName } from "../test/harness/util.js";
import { summary } from "./arrivals.js";
import { bareLatency } from "./ceilings.js";
import { bareProducer } from "./parts/bare-producer.js";
import { mysqlReader, plainMysqlRead } from "./parts/plain-read.js";
import type { Ceiling } from "./parts/timed.js";
import { zongjiAlone } from "./parts/zongji-alone.js";
import { ConnectorBench, type PhaseResult } from "./connector-bench.js";
import { loadAverage, ratio, round, scaled, timeUntil } from "./daemon.js";
import { latency, LATENCY_WARMUP_SECONDS } from "./latency.js";
import type { BenchContext, BenchResult, Figure } from "./report.js";

export const CHUNK = 10_000;
export const BATCH = 10_000;
const LIVE_WRITERS = 2;

export const TABLE = `(id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, qty INT NOT NULL, price DECIMAL(10,2) NOT NULL, created DATETIME(6) NOT NULL, active TINYINT NOT NULL)`;

/** A table's columns and the SELECT list (over MariaDB's seq_N_to_M `seq`) that fills a row of it. */
export interface Shape {
  table: string;
  row: string;
}

const NARROW: Shape = { table: TABLE, row: "seq, CONCAT('name ', seq), seq % 1000, seq / 100, NOW(6), seq % 2" };

/** Rows of about 4 KB: a 4,096-character text that differs per row (so no layer compresses it away). */
const WIDE: Shape = {
  table: "(id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, body TEXT NOT NULL, created DATETIME(6) NOT NULL)",
  row: "seq, CONCAT('name ', seq), REPEAT(MD5(seq), 128), NOW(6)",
};

/** The row counts of the three backlog phases, scaled by BENCH_SCALE. */
export function volumes() {
  return { snapshot: scaled(400_000, 1000), stream100: scaled(400_000, 1000), stream1: scaled(120_000, 1000) };
}

/** The wide rows' phases (about 4 KB a row: 400 MB and 200 MB at full scale). */
function wideVolumes() {
  return { snapshot: scaled(100_000, 1000), stream100: scaled(50_000, 1000) };
}

/** Rows id `from`..`from + rows - 1`, in transactions of `perTransaction` rows (1: one autocommitted INSERT per row). */
export async function fill(conn: Connection, table: string, from: number, rows: number, perTransaction: number, shape = NARROW): Promise<void> {
  if (perTransaction > 1) {
    for (let start = from; start < from + rows; start += perTransaction) {
      await conn.query(`INSERT INTO ${table} SELECT ${shape.row} FROM seq_${start}_to_${Math.min(start + perTransaction, from + rows) - 1}`);
    }
    return;
  }
  if (shape !== NARROW) throw new Error("1-row transactions are written for the narrow table only");
  // one autocommitted INSERT per row, 1000 statements per round trip
  for (let start = from; start < from + rows; start += 1000) {
    const statements: string[] = [];
    for (let id = start; id < Math.min(start + 1000, from + rows); id++) statements.push(`INSERT INTO ${table} VALUES (${id}, 'name ${id}', ${id % 1000}, ${id / 100}, NOW(6), ${id % 2})`);
    await conn.query(statements.join(";"));
  }
}

/** The binlog file and position now: where the next transaction's events will start. */
async function binlogEnd(conn: Connection): Promise<{ file: string; pos: number }> {
  const [rows] = await conn.query("SHOW MASTER STATUS");
  const row = (rows as { File: string; Position: number }[])[0]!;
  return { file: row.File, pos: Number(row.Position) };
}

/**
 * One MariaDB database with the benchmark's tables and one binlog connector on it; each phase
 * starts a fresh `liberator run` and stops it after. The connector snapshots once (the first phase)
 * and streams from its committed position on every later start.
 */
export class BinlogBench extends ConnectorBench {
  readonly database = uniqueName("bench_binlog");

  private constructor(
    info: HarnessInfo,
    readonly conn: Connection,
    private readonly shape: Shape,
  ) {
    super(info, "binlog");
  }

  /** `shape`: the tables' columns; the wide rows' snapshot is filled in transactions of 1,000 rows (4 MB). */
  static async open(info: HarnessInfo, snapshotRows: number, shape = NARROW): Promise<BinlogBench> {
    const conn = await mysql.createConnection({ ...info.mariadb, multipleStatements: true });
    const b = new BinlogBench(info, conn, shape);
    await conn.query(`CREATE DATABASE ${b.database}`);
    await conn.query(`USE ${b.database}`);
    await conn.query(["snap", "stream100", "stream1", "live", "lat"].map((t) => `CREATE TABLE ${t} ${shape.table}`).join(";"));
    await fill(conn, "snap", 1, snapshotRows, shape === NARROW ? 10_000 : 1000, shape);
    await b.configure({ type: "binlog", connection: { ...info.mariadb }, include: [`${b.database}.*`], snapshot: { chunkSize: CHUNK } });
    return b;
  }

  topic(table: string): string {
    return `${this.name}.${this.database}.${table}`;
  }

  /** Rows pre-written in transactions of `perTransaction` while no daemon runs, then streamed; also returns where they start in the binlog. */
  async stream(table: string, rows: number, perTransaction: number): Promise<PhaseResult & { start: { file: string; pos: number } }> {
    const start = await binlogEnd(this.conn);
    await fill(this.conn, table, 1, rows, perTransaction, this.shape);
    // the admin API counts the records of this daemon's life only, so `rows` is the goal
    return { start, ...(await this.backlog(table, rows, (s) => s.records >= rows)) };
  }

  /** Rows id from..to of the latency phase's table, in one transaction. */
  async insertLatencyRows(from: number, to: number): Promise<void> {
    await this.conn.query(`INSERT INTO lat SELECT seq, 'n', seq % 1000, 1.00, NOW(6), 1 FROM seq_${from}_to_${to}`);
  }

  override async close(): Promise<void> {
    await super.close();
    await this.conn.query(`DROP DATABASE ${this.database}`).catch(() => undefined);
    await this.conn.end();
  }
}

/** Writers flat out for `seconds` (100-row transactions on LIVE_WRITERS connections) while a daemon streams; every row's lag. */
async function live(b: BinlogBench, seconds: number) {
  const capacity = scaled(3_000_000, 1000);
  const committedAt = new Float64Array(capacity + 1);
  const writers = await Promise.all(Array.from({ length: LIVE_WRITERS }, () => mysql.createConnection({ ...b.info.mariadb, database: b.database })));
  const { result, rssMb } = await b.daemon(async (d) => {
    await timeUntil(d, b.name, (s) => s.details?.phase === "stream");
    const arrivals = await b.watch("live", capacity, committedAt);
    try {
      let next = 1;
      const cpu0 = d.cpuSeconds();
      const t0 = performance.now();
      await Promise.all(
        writers.map(async (w) => {
          while (performance.now() - t0 < seconds * 1000 && next + 99 <= capacity) {
            const from = next;
            next += 100;
            await w.query(`INSERT INTO live SELECT seq, CONCAT('name ', seq), seq % 1000, seq / 100, NOW(6), seq % 2 FROM seq_${from}_to_${from + 99}`);
            committedAt.fill(performance.now(), from, from + 100);
          }
        }),
      );
      const written = next - 1;
      const writeSeconds = (performance.now() - t0) / 1000;
      await arrivals.complete(written);
      const cpu = d.cpuSeconds() - cpu0;
      return {
        written,
        offered: written / writeSeconds,
        rowsPerS: (written * 1000) / (arrivals.lastArrival() - t0),
        cpuUsPerRow: (cpu * 1e6) / written,
        lag: summary(arrivals.latencies(1, written)),
        load: loadAverage(),
      };
    } finally {
      await arrivals.stop();
    }
  });
  await Promise.all(writers.map((w) => w.end()));
  return { ...result, rssMb };
}

/**
 * Rows of about 4 KB through a connector of its own: a snapshot beside the plain chunked SELECT of
 * the same table, and 100-row transactions beside zongji alone. Its peak RSS shows the pipeline
 * bounded by bytes, not only by rows (chunks of 10,000 such rows are 40 MB each).
 */
async function wide(info: HarnessInfo) {
  const rows = wideVolumes();
  const w = await BinlogBench.open(info, rows.snapshot, WIDE);
  try {
    const snapshot = await w.snapshot(rows.snapshot);
    const reader = await mysqlReader(info.mariadb, w.database);
    const select = await plainMysqlRead(reader, "snap", CHUNK, "query").finally(() => reader.end());
    if (select.rows !== rows.snapshot) throw new Error(`the plain SELECT of the wide table read ${select.rows} rows, not ${rows.snapshot}`);
    const stream = await w.stream("stream100", rows.stream100, 100);
    const zongji = await zongjiAlone(info.mariadb, stream.start, w.database, "stream100", rows.stream100);
    return { rows, snapshot, select, stream, zongji };
  } finally {
    await w.close();
  }
}

/** MB/s of records whose values average `valueBytes`. */
const mbPerS = (rowsPerS: number, valueBytes: number) => (rowsPerS * valueBytes) / 1e6;

export const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;

/** A phase's note: rows/s, the process's CPU per row and peak RSS, the load, and its ceiling's CPU per row. */
export const phaseLine = (label: string, p: { rowsPerS: number; cpuUsPerRow: number; rssMb: number; load: string }, c?: Ceiling, cLabel?: string) =>
  `${label}: ${Math.round(p.rowsPerS).toLocaleString("en-US")} rows/s, liberator ${p.cpuUsPerRow.toFixed(1)} µs CPU/row, peak RSS ${Math.round(p.rssMb)} MB, load ${p.load}` +
  (c ? `; ${cLabel} ${c.cpuUsPerRow.toFixed(1)} µs CPU/row` : "");

export async function run(context: BenchContext): Promise<BenchResult> {
  const info = await context.servers();
  const rows = volumes();
  const liveSeconds = Number(process.env.BENCH_LIVE_SECONDS ?? 10);
  const rate = Number(process.env.BENCH_LATENCY_RATE ?? 10_000);
  const b = await BinlogBench.open(info, rows.snapshot);
  const brokers = info.kafka.brokers;
  const bare = (n: number, p: PhaseResult) => bareProducer(brokers, { records: n, keyBytes: p.keyBytes, valueBytes: p.valueBytes, perTransaction: BATCH });
  try {
    const snapshot = await b.snapshot(rows.snapshot);
    const reader = await mysqlReader(info.mariadb, b.database);
    const select = await plainMysqlRead(reader, "snap", CHUNK, "query").finally(() => reader.end());
    if (select.rows !== rows.snapshot) throw new Error(`the plain SELECT read ${select.rows} rows, not ${rows.snapshot}`);
    const snapshotBare = await bare(rows.snapshot, snapshot);

    const stream100 = await b.stream("stream100", rows.stream100, 100);
    const zongji100 = await zongjiAlone(info.mariadb, stream100.start, b.database, "stream100", rows.stream100);
    const stream100Bare = await bare(rows.stream100, stream100);

    const stream1 = await b.stream("stream1", rows.stream1, 1);
    const zongji1 = await zongjiAlone(info.mariadb, stream1.start, b.database, "stream1", rows.stream1);
    const stream1Bare = await bare(rows.stream1, stream1);

    const flat = await live(b, liveSeconds);
    const lat = await latency(b, rate, 10);
    const bareLat = await bareLatency(brokers, { rate, seconds: 10, warmupS: LATENCY_WARMUP_SECONDS, keyBytes: lat.keyBytes, valueBytes: lat.valueBytes });
    const wideRun = await wide(info);
    const wideMb = {
      snapshot: mbPerS(wideRun.snapshot.rowsPerS, wideRun.snapshot.valueBytes),
      select: mbPerS(wideRun.select.rowsPerS, wideRun.snapshot.valueBytes),
      stream: mbPerS(wideRun.stream.rowsPerS, wideRun.stream.valueBytes),
      zongji: mbPerS(wideRun.zongji.rowsPerS, wideRun.stream.valueBytes),
    };

    const phases = { snapshot, stream100, stream1 };
    const wideRssMb = Math.max(wideRun.snapshot.rssMb, wideRun.stream.rssMb);
    const rssMb = Math.max(snapshot.rssMb, stream100.rssMb, stream1.rssMb, flat.rssMb, lat.rssMb, wideRssMb);
    const cpu = { snapshot: snapshot.cpuUsPerRow, stream100: stream100.cpuUsPerRow, stream1: stream1.cpuUsPerRow, live: flat.cpuUsPerRow, latency: lat.cpuUsPerRow };
    const perSecond = "rows/s";
    const figures: Figure[] = [
      { name: "streaming, 100-row transactions", value: stream100.rowsPerS, unit: perSecond, reference: { value: zongji100.rowsPerS, label: "zongji alone, same events" } },
      { name: "streaming, 100-row transactions", value: stream100.rowsPerS, unit: perSecond, reference: { value: stream100Bare.rowsPerS, label: "bare transactional producer" } },
      { name: "streaming, 1-row transactions", value: stream1.rowsPerS, unit: perSecond, reference: { value: zongji1.rowsPerS, label: "zongji alone, same events" } },
      { name: "streaming, 1-row transactions", value: stream1.rowsPerS, unit: perSecond, reference: { value: stream1Bare.rowsPerS, label: "bare transactional producer" } },
      { name: "snapshot", value: snapshot.rowsPerS, unit: perSecond, reference: { value: select.rowsPerS, label: "plain chunked SELECT" } },
      { name: "snapshot", value: snapshot.rowsPerS, unit: perSecond, reference: { value: snapshotBare.rowsPerS, label: "bare transactional producer" } },
      { name: `live, writers flat out (${Math.round(flat.offered).toLocaleString("en-US")} rows/s written)`, value: flat.rowsPerS, unit: perSecond, reference: { value: flat.offered, label: "rate written" } },
      { name: `latency p50 at ${rate.toLocaleString("en-US")} rows/s`, value: lat.measured.p50, unit: "ms", reference: { value: bareLat.p50, label: "bare produce → consume" } },
      { name: `latency p99 at ${rate.toLocaleString("en-US")} rows/s`, value: lat.measured.p99, unit: "ms", reference: { value: bareLat.p99, label: "bare produce → consume" } },
      { name: "wide rows (~4 KB), snapshot", value: wideMb.snapshot, unit: "MB/s", reference: { value: wideMb.select, label: "plain chunked SELECT" } },
      { name: "wide rows (~4 KB), 100-row transactions", value: wideMb.stream, unit: "MB/s", reference: { value: wideMb.zongji, label: "zongji alone, same events" } },
      { name: "peak RSS of liberator, wide rows", value: wideRssMb, unit: "MB", reference: { value: 256, label: "goal: below" } },
      { name: "peak RSS of liberator", value: rssMb, unit: "MB", reference: { value: 256, label: "goal: below" } },
    ];
    return {
      figures,
      fields: {
        stream_rows_per_s: Math.round(stream100.rowsPerS),
        stream_single_row_tx_per_s: Math.round(stream1.rowsPerS),
        snapshot_rows_per_s: Math.round(snapshot.rowsPerS),
        live_rows_per_s: Math.round(flat.rowsPerS),
        p50_ms: round(lat.measured.p50),
        p99_ms: round(lat.measured.p99),
        rss_mb: Math.round(rssMb),
        cpu_us_per_row: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v)])),
        decode_ceiling_ratio: ratio(stream100.rowsPerS, zongji100.rowsPerS),
        single_row_ceiling_ratio: ratio(stream1.rowsPerS, zongji1.rowsPerS),
        snapshot_ceiling_ratio: ratio(snapshot.rowsPerS, select.rowsPerS),
        latency_ratio: ratio(lat.measured.p99, bareLat.p99),
        wide: {
          snapshot_rows_per_s: Math.round(wideRun.snapshot.rowsPerS),
          snapshot_mb_per_s: round(wideMb.snapshot),
          stream_rows_per_s: Math.round(wideRun.stream.rowsPerS),
          stream_mb_per_s: round(wideMb.stream),
          rss_mb: Math.round(wideRssMb),
          cpu_us_per_row: { snapshot: round(wideRun.snapshot.cpuUsPerRow), stream100: round(wideRun.stream.cpuUsPerRow) },
          snapshot_ceiling_ratio: ratio(wideRun.snapshot.rowsPerS, wideRun.select.rowsPerS),
          decode_ceiling_ratio: ratio(wideRun.stream.rowsPerS, wideRun.zongji.rowsPerS),
        },
        producer_ceiling_ratio: Object.fromEntries(
          Object.entries({ snapshot: snapshotBare, stream100: stream100Bare, stream1: stream1Bare }).map(([k, c]) => [k, ratio(phases[k as keyof typeof phases].rowsPerS, c.rowsPerS)]),
        ),
      },
      notes: [
        `liberator run (one binlog connector, Avro, exactly-once transactions, batch.maxRecords ${BATCH.toLocaleString("en-US")}) on the harness MariaDB and Kafka, all on this machine's cores; every phase's topic read back: each row arrived exactly once`,
        `snapshot: ${rows.snapshot.toLocaleString("en-US")} rows of a 6-column table, chunks of ${CHUNK.toLocaleString("en-US")}; streaming: ${rows.stream100.toLocaleString("en-US")} rows in 100-row and ${rows.stream1.toLocaleString("en-US")} in 1-row transactions, pre-written, timed from the connector running to the last row committed`,
        phaseLine("snapshot", snapshot, select, "plain SELECT"),
        phaseLine("100-row transactions", stream100, zongji100, "zongji alone"),
        phaseLine("1-row transactions", stream1, zongji1, "zongji alone"),
        `bare producer (kafkajs, transactions of ${BATCH.toLocaleString("en-US")}, ${Math.round(snapshot.keyBytes)}-byte keys, ${Math.round(snapshot.valueBytes)}-byte values): ${[snapshotBare, stream100Bare, stream1Bare].map((c) => `${Math.round(c.rowsPerS).toLocaleString("en-US")} rows/s at ${c.cpuUsPerRow.toFixed(1)} µs CPU/row`).join(", ")}`,
        `${phaseLine(`live, ${LIVE_WRITERS} writers flat out for ${liveSeconds} s`, flat)}; ${flat.written.toLocaleString("en-US")} rows, lag from commit p50 ${ms(flat.lag.p50)}, p99 ${ms(flat.lag.p99)}, max ${ms(flat.lag.max)}`,
        `${phaseLine(`latency at ${rate.toLocaleString("en-US")} rows/s`, { ...lat, rowsPerS: rate })}; ${lat.measured.n.toLocaleString("en-US")} rows after ${LATENCY_WARMUP_SECONDS} s of the same from the daemon's start, from each INSERT's commit to a read_committed consumer`,
        `latency in those first ${LATENCY_WARMUP_SECONDS} s (${lat.warm.n} rows): p50 ${ms(lat.warm.p50)}, p99 ${ms(lat.warm.p99)}, max ${ms(lat.warm.max)}; over every row: p99 ${ms(lat.all.p99)}, max ${ms(lat.all.max)}`,
        `wide rows: ${wideRun.rows.snapshot.toLocaleString("en-US")} snapshot rows and ${wideRun.rows.stream100.toLocaleString("en-US")} in 100-row transactions of (id, name, a 4,096-character text, DATETIME(6)), ${Math.round(wideRun.snapshot.valueBytes).toLocaleString("en-US")}-byte Avro values, a connector of their own`,
        `${phaseLine("wide snapshot", wideRun.snapshot, wideRun.select, "plain SELECT")}; ${wideMb.snapshot.toFixed(1)} MB/s beside ${wideMb.select.toFixed(1)}`,
        `${phaseLine("wide 100-row transactions", wideRun.stream, wideRun.zongji, "zongji alone")}; ${wideMb.stream.toFixed(1)} MB/s beside ${wideMb.zongji.toFixed(1)}`,
        `bare produce → read_committed consume at ${rate.toLocaleString("en-US")} records/s (one transaction at a time, same sizes, same broker): p50 ${ms(bareLat.p50)}, p99 ${ms(bareLat.p99)}, max ${ms(bareLat.max)}`,
      ],
    };
  } finally {
    await b.close();
  }
}
