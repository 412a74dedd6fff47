/**
 * The outbox relay through the real `liberator run` (compiled, a child process), exactly-once and Avro on,
 * as users run it, each figure beside its ceiling measured in the same run:
 * - throughput: a pre-filled outbox (PostgreSQL, then MariaDB) relayed to empty: events/s between
 *   the first and the last committed batch, as the admin API counts them; beside the plain read
 *   of the same rows (same driver, pages of 10,000 in id order, read before the relay deletes them)
 *   and the bare transactional producer sending as many records of the same sizes;
 * - latency: applications committing 1,000 events/s (one event per transaction, written with
 *   `writeOutboxEvent`, validated) while a read_committed consumer in this process notes when each
 *   event arrives: commit-to-consumer p50/p99, per database, beside the bare produce → consume
 *   latency at the same rate on the same broker;
 * - reconciliation: every event written arrives exactly once (by its id header), or the run fails;
 *   the outbox is empty after the relay;
 * - CPU of the liberator process per event, its peak RSS (VmHWM), the load average.
 *
 * Scale: BENCH_SCALE multiplies the pre-filled events (200,000).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel, type KafkaMessage } from "kafkajs";
import { stringify } from "yaml";
import { writeOutboxEvent } from "../src/outbox.js";
import { outboxConfig } from "../src/sources/outbox/config.js";
import { initDdl } from "../src/sources/outbox/ddl.js";
import { outboxTableName } from "../src/sources/outbox/sql.js";
import { createDatabaseIn, dropDatabaseIn, mysqlConnection, pgClient, type DatabaseKind } from "../test/harness/clients.js";
import { freePort } from "../test/harness/ports.js";
import type { HarnessInfo } from "../test/harness/start.js";
import { uniqueName } from "../test/harness/util.js";
import { ORDER_EVENT } from "../test/integration/outbox/order-event.js";
import { readBack, summary, watchArrivals } from "./arrivals.js";
import { bareLatency, plainPgRead } from "./ceilings.js";
import { bareProducer } from "./parts/bare-producer.js";
import { mysqlReader, plainMysqlRead } from "./parts/plain-read.js";
import type { Ceiling } from "./parts/timed.js";
import { buildLiberator, loadAverage, ratio, round, scaled, sleep, startLiberator, type Daemon } from "./daemon.js";
import type { BenchContext, BenchResult } from "./report.js";

const RATE = 1_000;
const WARMUP_MS = 3_000;
const MEASURE_MS = 15_000;
const WRITERS = 4;
const BATCH = 10_000;
/** A relay that commits nothing new for this long has lost events: the run fails rather than waits. */
const STALL_MS = 60_000;

interface Db {
  kind: DatabaseKind;
  database: string;
  exec(sql: string): Promise<void>;
  count(): Promise<number>;
  write(seq: number): Promise<number>;
  /** The plain read of the outbox's rows in pages of BATCH, in id order. */
  plainRead(): Promise<Ceiling & { rows: number }>;
  close(): Promise<void>;
}

async function openDb(info: HarnessInfo, kind: DatabaseKind, database: string): Promise<Db> {
  const schemas = { OrderPlaced: ORDER_EVENT };
  const event = (seq: number) => ({ aggregateType: "Order", aggregateId: seq % 1000, type: "OrderPlaced", payload: { orderId: seq, seq, amount: "12.30" } });
  if (kind === "postgres") {
    const c = await pgClient(info, database);
    return {
      kind,
      database,
      exec: async (sql) => void (await c.query(sql)),
      count: async () => Number((await c.query("SELECT count(*) AS n FROM outbox")).rows[0].n),
      write: (seq) => writeOutboxEvent(c, event(seq), { schemas }),
      plainRead: () => plainPgRead(c, "outbox", BATCH),
      close: () => c.end(),
    };
  }
  const c = await mysqlConnection(info, database);
  return {
    kind,
    database,
    exec: async (sql) => void (await c.query(sql)),
    count: async () => Number(((await c.query("SELECT count(*) AS n FROM outbox"))[0] as { n: number }[])[0]!.n),
    write: (seq) => writeOutboxEvent(c, event(seq), { schemas }),
    plainRead: async () => {
      const reader = await mysqlReader(info.mariadb, database);
      return plainMysqlRead(reader, "outbox", BATCH, "query").finally(() => reader.end());
    },
    close: () => c.end(),
  };
}

const prefillSql = (kind: DatabaseKind, events: number) =>
  kind === "postgres"
    ? `INSERT INTO outbox (aggregate_type, aggregate_id, type, payload)
    SELECT 'Order', (g % 1000)::text, 'OrderPlaced', jsonb_build_object('orderId', g, 'seq', g, 'amount', '12.30') FROM generate_series(1, ${events}) g`
    : `INSERT INTO outbox (aggregate_type, aggregate_id, type, payload)
    SELECT 'Order', seq % 1000, 'OrderPlaced', JSON_OBJECT('orderId', seq, 'seq', seq, 'amount', '12.30') FROM seq_1_to_${events}`;

/** Until the relay has deleted every relayed row from the outbox; fails when rows stay past STALL_MS. */
async function drained(db: Db): Promise<void> {
  const deadline = performance.now() + STALL_MS;
  for (let left = await db.count(); left > 0; left = await db.count()) {
    if (performance.now() > deadline) throw new Error(`${db.kind}: ${left} events stayed in the outbox ${STALL_MS / 1000} s after they were relayed`);
    await sleep(50);
  }
}

/** The event id an outbox record carries in its `id` header. */
const eventId = (m: KafkaMessage) => (m.headers?.id === undefined ? undefined : Number(m.headers.id.toString()));

/** One liberator configuration with one outbox connector on `db` (its table created); start() runs it. */
async function relay(info: HarnessInfo, db: Db, topicPrefix: string, schemaFile: string) {
  const file = join(mkdtempSync(join(tmpdir(), "liberator-bench-outbox-")), "connectors.yaml");
  const port = await freePort();
  const server = db.kind === "postgres" ? info.postgres : info.mariadb;
  const connector = {
    name: uniqueName("bench_outbox"),
    type: "outbox",
    dialect: db.kind === "postgres" ? "postgres" : "mysql",
    connection: { host: server.host, port: server.port, user: server.user, password: server.password, database: db.database },
    topicPrefix,
    events: { OrderPlaced: { schema: schemaFile } },
  };
  const parsed = outboxConfig.parse(connector);
  for (const statement of initDdl(parsed, outboxTableName(parsed))) await db.exec(statement);
  writeFileSync(file, stringify({ kafka: { brokers: info.kafka.brokers, topics: { replicationFactor: 1 } }, admin: { port }, log: { level: "warn" }, connectors: [connector] }));
  return {
    start: () => {
      const d = startLiberator(file, port, buildLiberator());
      return {
        d,
        /** Events committed so far, as the admin API reports them. */
        async records(): Promise<number> {
          const res = await fetch(`${d.admin}/connectors`).catch(() => undefined);
          if (!res?.ok) return 0;
          return ((await res.json()) as { records: number }[])[0]?.records ?? 0;
        },
        async ready(): Promise<void> {
          for (;;) {
            if (d.child.exitCode !== null) throw new Error(`liberator exited: ${d.stderr()}`);
            const res = await fetch(`${d.admin}/readyz`).catch(() => undefined);
            if (res?.status === 200) return;
            await sleep(100);
          }
        },
        /** The runtime's Kafka commit times, as the upper bounds of its histogram buckets: p50 and p99 in ms. */
        async commits(): Promise<{ p50: number; p99: number }> {
          const text = await (await fetch(`${d.admin}/metrics`)).text();
          const buckets = [...text.matchAll(/^liberator_batch_seconds_bucket\{([^}]*)\} (\d+)$/gm)]
            .filter((m) => m[1]!.includes('stage="commit"'))
            .map((m) => ({ le: Number(/le="([^"]+)"/.exec(m[1]!)![1]), n: Number(m[2]) }));
          const total = buckets.at(-1)?.n ?? 0;
          const bound = (q: number) => (buckets.find((b) => b.n >= q * total)?.le ?? NaN) * 1000;
          return { p50: bound(0.5), p99: bound(0.99) };
        },
      };
    },
  };
}

interface Throughput {
  rate: number;
  cpuUsPerEvent: number;
  rssMb: number;
  load: string;
  plain: Ceiling;
  bare: Ceiling;
}

/** Relays a pre-filled outbox; events/s from the first to the last committed batch, beside its ceilings. */
async function throughput(info: HarnessInfo, kind: DatabaseKind, schemaFile: string, events: number): Promise<Throughput> {
  const database = await createDatabaseIn(info, kind, uniqueName("bench_outbox"));
  const db = await openDb(info, kind, database);
  const prefix = uniqueName("bench_tp");
  let d: Daemon | undefined;
  try {
    const r = await relay(info, db, prefix, schemaFile);
    await db.exec(prefillSql(kind, events));
    const plain = await db.plainRead();
    if (plain.rows !== events) throw new Error(`the plain read got ${plain.rows} rows, not ${events}`);
    const run = r.start();
    d = run.d;
    let first: { at: number; n: number; cpu: number } | undefined;
    let n = 0;
    let news = performance.now();
    while (n < events) {
      if (d.child.exitCode !== null) throw new Error(`liberator exited: ${d.stderr()}`);
      if (performance.now() - news > STALL_MS) throw new Error(`${kind}: the relay committed ${n} of ${events} events and nothing more for ${STALL_MS / 1000} s`);
      await sleep(20);
      const now = await run.records();
      if (now > n) [n, news] = [now, performance.now()];
      if (n > 0 && !first) first = { at: performance.now(), n, cpu: d.cpuSeconds() };
    }
    const seconds = (performance.now() - first!.at) / 1000;
    const cpu = d.cpuSeconds() - first!.cpu;
    const load = loadAverage();
    await drained(db);
    await d.stop();
    const kafka = new Kafka({ clientId: "bench-outbox", brokers: info.kafka.brokers, logLevel: logLevel.NOTHING });
    const sizes = await readBack(kafka, `${prefix}.Order`, events, async (m) => eventId(m));
    const bare = await bareProducer(info.kafka.brokers, { records: events, ...sizes, perTransaction: BATCH });
    return { rate: (events - first!.n) / seconds, cpuUsPerEvent: (cpu * 1e6) / (events - first!.n), rssMb: d.peakMb(), load, plain, bare };
  } finally {
    await d?.stop();
    await db.close();
    await dropDatabaseIn(info, kind, database);
  }
}

/** Applications committing RATE events/s, one per transaction; commit-to-consumer latency of every event. */
async function latency(info: HarnessInfo, kind: DatabaseKind, schemaFile: string) {
  const database = await createDatabaseIn(info, kind, uniqueName("bench_outbox"));
  // several application connections: one alone cannot always commit 1,000 transactions a second here
  const writers = await Promise.all(Array.from({ length: WRITERS }, () => openDb(info, kind, database)));
  const db = writers[0]!;
  const prefix = uniqueName("bench_lat");
  const capacity = Math.ceil((RATE * (WARMUP_MS + MEASURE_MS)) / 1000) + 1000;
  const committedAt = new Float64Array(capacity + 1);
  const kafka = new Kafka({ clientId: "bench-outbox", brokers: info.kafka.brokers, logLevel: logLevel.NOTHING });
  const run = (await relay(info, db, prefix, schemaFile)).start();
  let arrivals: Awaited<ReturnType<typeof watchArrivals>> | undefined;
  try {
    await run.ready();
    const firstId = await db.write(0); // creates the topic before the consumer subscribes
    committedAt[firstId] = performance.now();
    while ((await run.records()) < 1) await sleep(20);
    arrivals = await watchArrivals(kafka, `${prefix}.Order`, capacity, eventId, committedAt);
    await sleep(1_000);
    const written: number[] = [firstId];
    const measured: number[] = [];
    const started = performance.now();
    let cpu0 = 0;
    // one event per transaction, RATE per second in all, each writer catching up after a slow commit
    await Promise.all(
      writers.map(async (writer, w) => {
        let seq = 0;
        for (let elapsed = 0; elapsed < WARMUP_MS + MEASURE_MS; elapsed = performance.now() - started) {
          const due = Math.floor(((elapsed / 1000) * RATE) / WRITERS);
          while (seq < due) {
            const id = await writer.write(1 + w + WRITERS * seq++);
            const now = performance.now();
            committedAt[id] = now;
            written.push(id);
            if (now - started >= WARMUP_MS) {
              if (cpu0 === 0) cpu0 = run.d.cpuSeconds();
              measured.push(id);
            }
          }
          await sleep(1);
        }
      }),
    );
    const cpu = run.d.cpuSeconds() - cpu0;
    await arrivals.complete(written, 30_000);
    const commits = await run.commits();
    const load = loadAverage();
    await drained(db);
    return {
      ...summary(arrivals.latenciesOf(measured)),
      written: written.length,
      rate: measured.length / (MEASURE_MS / 1000),
      cpuUsPerEvent: (cpu * 1e6) / measured.length,
      keyBytes: arrivals.keyBytes(),
      valueBytes: arrivals.valueBytes(),
      commits,
      load,
      rssMb: run.d.peakMb(),
    };
  } finally {
    await run.d.stop();
    await arrivals?.stop().catch(() => undefined);
    await Promise.all(writers.map((w) => w.close()));
    await dropDatabaseIn(info, kind, database);
  }
}

export async function run(context: BenchContext): Promise<BenchResult> {
  const info = await context.servers();
  // events/s is timed from the first committed batch to the last: one batch alone would time nothing
  const events = Math.max(3 * BATCH, scaled(200_000, 1000));
  const schemaFile = join(mkdtempSync(join(tmpdir(), "liberator-bench-schema-")), "order-placed.avsc");
  writeFileSync(schemaFile, JSON.stringify(ORDER_EVENT));
  const pg = await throughput(info, "postgres", schemaFile, events);
  const maria = await throughput(info, "mariadb", schemaFile, events);
  const pgLatency = await latency(info, "postgres", schemaFile);
  const mariaLatency = await latency(info, "mariadb", schemaFile);
  const bareLat = await bareLatency(info.kafka.brokers, { rate: RATE, seconds: MEASURE_MS / 1000, warmupS: WARMUP_MS / 1000, keyBytes: pgLatency.keyBytes, valueBytes: pgLatency.valueBytes });
  const rss = Math.max(pg.rssMb, maria.rssMb, pgLatency.rssMb, mariaLatency.rssMb);
  const tp = (label: string, t: Throughput) =>
    `${label}: ${Math.round(t.rate).toLocaleString("en-US")} events/s at ${t.cpuUsPerEvent.toFixed(1)} µs CPU/event, peak RSS ${Math.round(t.rssMb)} MB, load ${t.load}; plain read ${Math.round(t.plain.rowsPerS).toLocaleString("en-US")} rows/s (${t.plain.cpuUsPerRow.toFixed(1)} µs/row), bare producer ${Math.round(t.bare.rowsPerS).toLocaleString("en-US")} records/s (${t.bare.cpuUsPerRow.toFixed(1)} µs/record)`;
  const lat = (label: string, l: Awaited<ReturnType<typeof latency>>) =>
    `${label}: ${Math.round(l.rate)} events/s committed of ${RATE} asked, p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(0)} ms over ${l.n} events (${l.written} written, all arrived once), ${l.cpuUsPerEvent.toFixed(0)} µs CPU/event, peak RSS ${Math.round(l.rssMb)} MB, load ${l.load}; Kafka transaction of a batch (histogram bounds) p50 ≤ ${l.commits.p50} ms, p99 ≤ ${l.commits.p99} ms`;
  return {
    figures: [
      { name: "relay, pre-filled outbox, PostgreSQL", value: pg.rate, unit: "events/s", reference: { value: pg.plain.rowsPerS, label: "plain read of the same rows" } },
      { name: "relay, pre-filled outbox, PostgreSQL", value: pg.rate, unit: "events/s", reference: { value: pg.bare.rowsPerS, label: "bare transactional producer" } },
      { name: "relay, pre-filled outbox, MariaDB", value: maria.rate, unit: "events/s", reference: { value: maria.plain.rowsPerS, label: "plain read of the same rows" } },
      { name: "relay, pre-filled outbox, MariaDB", value: maria.rate, unit: "events/s", reference: { value: maria.bare.rowsPerS, label: "bare transactional producer" } },
      { name: `commit to consumer p50, PostgreSQL, ${RATE} events/s`, value: pgLatency.p50, unit: "ms", reference: { value: bareLat.p50, label: "bare produce → consume" } },
      { name: `commit to consumer p99, PostgreSQL, ${RATE} events/s`, value: pgLatency.p99, unit: "ms", reference: { value: bareLat.p99, label: "bare produce → consume" } },
      { name: `commit to consumer p50, MariaDB, ${RATE} events/s`, value: mariaLatency.p50, unit: "ms", reference: { value: bareLat.p50, label: "bare produce → consume" } },
      { name: `commit to consumer p99, MariaDB, ${RATE} events/s`, value: mariaLatency.p99, unit: "ms", reference: { value: bareLat.p99, label: "bare produce → consume" } },
      { name: "peak RSS of liberator", value: rss, unit: "MB", reference: { value: 256, label: "goal: below" } },
    ],
    fields: {
      events_per_s: Math.round(pg.rate),
      mysql_events_per_s: Math.round(maria.rate),
      pg_p99_ms: round(pgLatency.p99),
      mysql_p99_ms: round(mariaLatency.p99),
      latency_ratio: ratio(Math.max(pgLatency.p99, mariaLatency.p99), bareLat.p99),
      read_ceiling_ratio: { pg: ratio(pg.rate, pg.plain.rowsPerS), mysql: ratio(maria.rate, maria.plain.rowsPerS) },
      producer_ceiling_ratio: { pg: ratio(pg.rate, pg.bare.rowsPerS), mysql: ratio(maria.rate, maria.bare.rowsPerS) },
      cpu_us_per_row: { pg: round(pg.cpuUsPerEvent), mysql: round(maria.cpuUsPerEvent) },
      rss_mb: Math.round(rss),
    },
    notes: [
      `liberator run in a child process (compiled, node dist/cli.js), exactly-once (one Kafka transaction per batch, position included) and Avro (embedded registry), default batch of ${BATCH.toLocaleString("en-US")}`,
      `throughput: ${events.toLocaleString("en-US")} events pre-filled, counted from the first to the last committed batch; every event read back from the topic once, and the outbox empty after`,
      tp("PostgreSQL", pg),
      tp("MariaDB", maria),
      `latency: one event per transaction through writeOutboxEvent from ${WRITERS} connections, ${MEASURE_MS / 1000} s after ${WARMUP_MS / 1000} s of warm-up, from each commit's return to a read_committed consumer`,
      lat("PostgreSQL (NOTIFY)", pgLatency),
      lat("MariaDB (adaptive polling)", mariaLatency),
      `bare produce → read_committed consume at ${RATE} records/s (one transaction at a time, same sizes, same broker): p50 ${bareLat.p50.toFixed(1)} ms, p99 ${bareLat.p99.toFixed(1)} ms, max ${bareLat.max.toFixed(0)} ms; latency_ratio is the worse p99 of the two databases over it`,
    ],
  };
}
