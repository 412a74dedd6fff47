/**
 * The pgcdc source as users run it: `liberator run` compiled as the Dockerfile builds it, in a
 * child process, Avro through the embedded registry, exactly-once Kafka transactions, on the
 * harness PostgreSQL and Kafka (same 2 cores), each figure beside its ceiling measured in the same
 * run, as bench/binlog.ts does for the binlog source:
 *
 * - snapshot: a pre-filled 6-column table, from the connector's start to its last chunk committed;
 *   ceiling: the plain chunked SELECT of the same table (same driver, chunks of 10,000);
 * - streaming: rows pre-written in 100-row transactions, then in 1-row transactions, while the
 *   daemon is stopped; it then resumes from its slot, and the clock runs from its start to the last
 *   row committed in Kafka; ceiling: the source's own replication client and pgoutput decoder alone
 *   (WalStream, parseMessage: no Avro, no Kafka) reading the same changes through a slot of its own
 *   created at the same point;
 * - every phase also beside the bare transactional producer sending as many records of the same
 *   sizes, and every phase's topic read back: each row must arrive exactly once;
 * - latency: a writer commits 10,000 rows/s; the lag of every row from its commit to a
 *   read_committed consumer, beside the bare produce → consume latency at the same rate; the first
 *   seconds after the daemon's start are reported apart, as the binlog benchmark does;
 * - CPU of the liberator process per row and its peak RSS (VmHWM), per phase, with the load average.
 *
 * - the peer, after Liberator's phases (its rows would lengthen the WAL Liberator's slot decodes
 *   past before the latency phase): Debezium's PostgreSQL connector
 *   (plugin.name=pgoutput, its own slot and filtered publication) in its embedded engine, on a fresh
 *   database of the same server with the same table and rows, the same three phases each resumed by
 *   a fresh process, four times (handler only and producing JSON to the same broker, default heap
 *   and -Xmx512m), through the harness bench/peer.ts runs for the MySQL connector.
 *
 * Not here: the binlog benchmark's live and wide-row phases.
 *
 * Scale: BENCH_SCALE multiplies the row counts (default 1: 400,000 snapshot rows, 400,000 rows in
 * 100-row transactions, 120,000 1-row transactions); BENCH_LATENCY_RATE (10,000) sets the latency phase.
 */
import type pg from "pg";
import { pino } from "pino";
import { PG_READ_OPTIONS, pgReplicationConnect } from "../src/runtime/db/postgres.js";
import { parseMessage } from "../src/sources/pgcdc/pgoutput.js";
import { WalStream } from "../src/sources/pgcdc/replication.js";
import { createDatabaseIn, dropDatabaseIn, pgClient } from "../test/harness/clients.js";
import type { HarnessInfo } from "../test/harness/start.js";
import { uniqueName } from "../test/harness/util.js";
import { bareLatency, plainPgRead } from "./ceilings.js";
import { bareProducer } from "./parts/bare-producer.js";
import { timed, type Ceiling } from "./parts/timed.js";
import { ms, phaseLine } from "./binlog.js";
import { ConnectorBench, type PhaseResult } from "./connector-bench.js";
import { ratio, round, scaled } from "./daemon.js";
import { latency, LATENCY_WARMUP_SECONDS } from "./latency.js";
import { DEBEZIUM, debeziumClasspath, debeziumPeers, peerComparison, type PeerDatabase } from "./peer.js";
import type { BenchContext, BenchResult, Figure } from "./report.js";

const CHUNK = 10_000;
const BATCH = 10_000;
const TABLES = ["snap", "stream100", "stream1", "lat"];

const TABLE = "(id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, qty INT NOT NULL, price NUMERIC(10,2) NOT NULL, created TIMESTAMP(6) NOT NULL, active BOOLEAN NOT NULL)";
const rowsOf = (from: number, to: number) => `SELECT i, 'name ' || i, i % 1000, i / 100.0, clock_timestamp(), i % 2 = 1 FROM generate_series(${from}, ${to}) AS i`;

function volumes() {
  return { snapshot: scaled(400_000, 1000), stream100: scaled(400_000, 1000), stream1: scaled(120_000, 1000) };
}

/** Rows id `from`..`from + rows - 1`, in transactions of `perTransaction` rows. */
async function fill(client: pg.Client, table: string, from: number, rows: number, perTransaction: number): Promise<void> {
  const end = from + rows - 1;
  if (perTransaction > 1) {
    for (let start = from; start <= end; start += perTransaction) await client.query(`INSERT INTO ${table} ${rowsOf(start, Math.min(end, start + perTransaction - 1))}`);
    return;
  }
  // 1,000 transactions per round trip: a multi-statement query is one transaction unless it says BEGIN/COMMIT itself
  for (let start = from; start <= end; start += 1000) {
    const statements: string[] = [];
    for (let id = start; id <= Math.min(end, start + 999); id++) statements.push(`BEGIN; INSERT INTO ${table} ${rowsOf(id, id)}; COMMIT;`);
    await client.query(statements.join(""));
  }
}

/** A database of the harness PostgreSQL with the phase tables, captured by Debezium's PostgreSQL connector through pgoutput. */
async function postgresPeer(info: HarnessInfo, name: string): Promise<PeerDatabase> {
  await createDatabaseIn(info, "postgres", name);
  const client = await pgClient(info, name);
  for (const t of ["snap", "stream100", "stream1"]) await client.query(`CREATE TABLE ${t} ${TABLE}`);
  return {
    properties: () => ({
      "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
      "plugin.name": "pgoutput",
      "database.hostname": info.postgres.host,
      "database.port": String(info.postgres.port),
      "database.user": info.postgres.user,
      "database.password": info.postgres.password,
      "database.dbname": name,
      "slot.name": name,
      "publication.name": name,
      "publication.autocreate.mode": "filtered",
      "table.include.list": "public.snap,public.stream100,public.stream1",
    }),
    topic: (table) => `${name}.public.${table}`,
    fill: (table, rows, perTransaction) => fill(client, table, 1, rows, perTransaction),
    drop: async () => {
      // the slot outlives the engine (Debezium keeps it on stop), and a database with a slot cannot be dropped
      await client.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1", [name]).catch(() => undefined);
      await client.end();
      await dropDatabaseIn(info, "postgres", name).catch(() => undefined);
    },
  };
}

class PgcdcBench extends ConnectorBench {
  readonly database = uniqueName("bench_pgcdc");
  client!: pg.Client;

  private constructor(info: HarnessInfo) {
    super(info, "pgcdc");
  }

  static async open(info: HarnessInfo, snapshotRows: number): Promise<PgcdcBench> {
    const b = new PgcdcBench(info);
    await createDatabaseIn(info, "postgres", b.database);
    b.client = await pgClient(info, b.database);
    for (const t of TABLES) await b.client.query(`CREATE TABLE ${t} ${TABLE}`);
    await fill(b.client, "snap", 1, snapshotRows, 10_000);
    await b.client.query("VACUUM ANALYZE snap");
    await b.configure({ type: "pgcdc", connection: { ...info.postgres, database: b.database }, include: ["public.*"], snapshot: { chunkSize: CHUNK } });
    return b;
  }

  get publication(): string {
    return `liberator_${this.name}`;
  }

  topic(table: string): string {
    return `${this.name}.public.${table}`;
  }

  /** Rows pre-written while no daemon runs, then streamed; a slot of the ceiling's own is made at the same point first. */
  async stream(table: string, rows: number, perTransaction: number): Promise<PhaseResult & { decode: Ceiling }> {
    const slot = uniqueName("bench_decode");
    await this.client.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
    try {
      await fill(this.client, table, 1, rows, perTransaction);
      // the admin API counts the records of this daemon's life only, so `rows` is the goal
      const phase = await this.backlog(table, rows, (s) => s.records >= rows);
      return { ...phase, decode: await this.decodeAlone(slot, table, rows) };
    } finally {
      await this.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
    }
  }

  /** The source's replication client and pgoutput decoder alone, from `slot` until `rows` inserts of `table`: the decoding ceiling. */
  private async decodeAlone(slot: string, table: string, rows: number): Promise<Ceiling> {
    const repl = await pgReplicationConnect({ ...this.info.postgres, database: this.database, connectTimeoutMs: 10_000 });
    const wal = new WalStream(repl, {
      slot,
      publication: this.publication,
      start: 0n,
      confirmed: 0n,
      protoVersion: 2,
      maxQueuedBytes: 8 * 1024 * 1024,
      statusIntervalMs: 10_000,
      connector: "bench",
      log: pino({ level: "silent" }),
    });
    const signal = new AbortController().signal;
    try {
      return await timed(rows, async () => {
        await wal.start();
        const relations = new Map<number, string>();
        let seen = 0;
        while (seen < rows) {
          const m = wal.next();
          if (!m) {
            await wal.wait(1000, signal);
            continue;
          }
          const message = parseMessage(m.message);
          if (message.tag === "relation") relations.set(message.relation.id, message.relation.table);
          else if (message.tag === "insert" && relations.get(message.relation) === table) seen++;
        }
      });
    } finally {
      await wal.stop();
    }
  }

  async insertLatencyRows(from: number, to: number): Promise<void> {
    await this.client.query(`INSERT INTO lat ${rowsOf(from, to)}`);
  }

  override async close(): Promise<void> {
    await super.close();
    await this.client.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1", [this.database]).catch(() => undefined);
    await this.client.end();
    await dropDatabaseIn(this.info, "postgres", this.database).catch(() => undefined);
  }
}

export async function run(context: BenchContext): Promise<BenchResult> {
  const info = await context.servers();
  const rows = volumes();
  const rate = Number(process.env.BENCH_LATENCY_RATE ?? 10_000);
  const cp = debeziumClasspath();
  const b = await PgcdcBench.open(info, rows.snapshot);
  const brokers = info.kafka.brokers;
  const bare = (n: number, p: PhaseResult) => bareProducer(brokers, { records: n, keyBytes: p.keyBytes, valueBytes: p.valueBytes, perTransaction: BATCH });
  try {
    const snapshot = await b.snapshot(rows.snapshot);
    const reader = await pgClient(info, b.database, { ...PG_READ_OPTIONS });
    const select = await plainPgRead(reader, "snap", CHUNK).finally(() => reader.end());
    if (select.rows !== rows.snapshot) throw new Error(`the plain SELECT read ${select.rows} rows, not ${rows.snapshot}`);
    const snapshotBare = await bare(rows.snapshot, snapshot);

    const stream100 = await b.stream("stream100", rows.stream100, 100);
    const stream100Bare = await bare(rows.stream100, stream100);
    const stream1 = await b.stream("stream1", rows.stream1, 1);
    const stream1Bare = await bare(rows.stream1, stream1);


    const lat = await latency(b, rate, 10);
    const bareLat = await bareLatency(brokers, { rate, seconds: 10, warmupS: LATENCY_WARMUP_SECONDS, keyBytes: lat.keyBytes, valueBytes: lat.valueBytes });

    // last: the peer's rows go through the same WAL, which this connector's slot would have to decode past first
    const peer = peerComparison({ snapshot, stream100, stream1 }, await debeziumPeers(cp, brokers, rows, (name) => postgresPeer(info, name)), rows);

    const phases = { snapshot, stream100, stream1 };
    const rssMb = Math.max(snapshot.rssMb, stream100.rssMb, stream1.rssMb, lat.rssMb);
    const cpu = { snapshot: snapshot.cpuUsPerRow, stream100: stream100.cpuUsPerRow, stream1: stream1.cpuUsPerRow, latency: lat.cpuUsPerRow };
    const perSecond = "rows/s";
    const decodeLabel = "replication client + pgoutput decoder alone";
    const figures: Figure[] = [
      { name: "streaming, 100-row transactions", value: stream100.rowsPerS, unit: perSecond, reference: { value: stream100.decode.rowsPerS, label: decodeLabel } },
      { name: "streaming, 100-row transactions", value: stream100.rowsPerS, unit: perSecond, reference: { value: stream100Bare.rowsPerS, label: "bare transactional producer" } },
      { name: "streaming, 1-row transactions", value: stream1.rowsPerS, unit: perSecond, reference: { value: stream1.decode.rowsPerS, label: decodeLabel } },
      { name: "streaming, 1-row transactions", value: stream1.rowsPerS, unit: perSecond, reference: { value: stream1Bare.rowsPerS, label: "bare transactional producer" } },
      { name: "snapshot", value: snapshot.rowsPerS, unit: perSecond, reference: { value: select.rowsPerS, label: "plain chunked SELECT" } },
      { name: "snapshot", value: snapshot.rowsPerS, unit: perSecond, reference: { value: snapshotBare.rowsPerS, label: "bare transactional producer" } },
      { name: `latency p50 at ${rate.toLocaleString("en-US")} rows/s`, value: lat.measured.p50, unit: "ms", reference: { value: bareLat.p50, label: "bare produce → consume" } },
      { name: `latency p99 at ${rate.toLocaleString("en-US")} rows/s`, value: lat.measured.p99, unit: "ms", reference: { value: bareLat.p99, label: "bare produce → consume" } },
      { name: "peak RSS of liberator", value: rssMb, unit: "MB", reference: { value: 256, label: "goal: below" } },
      ...peer.figures,
    ];
    return {
      figures,
      fields: {
        stream_rows_per_s: Math.round(stream100.rowsPerS),
        stream_single_row_tx_per_s: Math.round(stream1.rowsPerS),
        snapshot_rows_per_s: Math.round(snapshot.rowsPerS),
        p50_ms: round(lat.measured.p50),
        p99_ms: round(lat.measured.p99),
        rss_mb: Math.round(rssMb),
        cpu_us_per_row: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v)])),
        decode_ceiling_ratio: ratio(stream100.rowsPerS, stream100.decode.rowsPerS),
        single_row_ceiling_ratio: ratio(stream1.rowsPerS, stream1.decode.rowsPerS),
        snapshot_ceiling_ratio: ratio(snapshot.rowsPerS, select.rowsPerS),
        latency_ratio: ratio(lat.measured.p99, bareLat.p99),
        producer_ceiling_ratio: Object.fromEntries(
          Object.entries({ snapshot: snapshotBare, stream100: stream100Bare, stream1: stream1Bare }).map(([k, c]) => [k, ratio(phases[k as keyof typeof phases].rowsPerS, c.rowsPerS)]),
        ),
        peer: peer.fields,
      },
      notes: [
        `liberator run (one pgcdc connector, Avro, exactly-once transactions, batch.maxRecords ${BATCH.toLocaleString("en-US")}) on the harness PostgreSQL ${info.postgres.host} and Kafka, all on this machine's cores; every phase's topic read back: each row arrived exactly once`,
        `snapshot: ${rows.snapshot.toLocaleString("en-US")} rows of a 6-column table, chunks of ${CHUNK.toLocaleString("en-US")}; streaming: ${rows.stream100.toLocaleString("en-US")} rows in 100-row and ${rows.stream1.toLocaleString("en-US")} in 1-row transactions, pre-written, timed from the connector running to the last row committed`,
        phaseLine("snapshot", snapshot, select, "plain SELECT"),
        phaseLine("100-row transactions", stream100, stream100.decode, "decoder alone"),
        phaseLine("1-row transactions", stream1, stream1.decode, "decoder alone"),
        `bare producer (kafkajs, transactions of ${BATCH.toLocaleString("en-US")}, ${Math.round(snapshot.keyBytes)}-byte keys, ${Math.round(snapshot.valueBytes)}-byte values): ${[snapshotBare, stream100Bare, stream1Bare].map((c) => `${Math.round(c.rowsPerS).toLocaleString("en-US")} rows/s at ${c.cpuUsPerRow.toFixed(1)} µs CPU/row`).join(", ")}`,
        `${phaseLine(`latency at ${rate.toLocaleString("en-US")} rows/s`, { ...lat, rowsPerS: rate })}; ${lat.measured.n.toLocaleString("en-US")} rows after ${LATENCY_WARMUP_SECONDS} s of the same from the daemon's start, from each INSERT's commit to a read_committed consumer`,
        `latency in those first ${LATENCY_WARMUP_SECONDS} s (${lat.warm.n} rows): p50 ${ms(lat.warm.p50)}, p99 ${ms(lat.warm.p99)}, max ${ms(lat.warm.max)}`,
        `bare produce → read_committed consume at ${rate.toLocaleString("en-US")} records/s (one transaction at a time, same sizes, same broker): p50 ${ms(bareLat.p50)}, p99 ${ms(bareLat.p99)}, max ${ms(bareLat.max)}`,
        `peer: Debezium ${DEBEZIUM}, embedded engine, PostgreSQL connector (plugin.name=pgoutput, a slot and a filtered publication of its own, offsets in a file), on a fresh database of the same PostgreSQL with the same table and rows, after Liberator's phases; handler only, or JSON into the same broker (acks=all, idempotent)`,
        ...peer.notes,
      ],
    };
  } finally {
    await b.close();
  }
}
