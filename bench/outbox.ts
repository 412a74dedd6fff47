/**
 * The outbox relay through the real `liberator run` (a child process), exactly-once and Avro on,
 * as users run it:
 * - throughput: a pre-filled outbox (PostgreSQL, then MariaDB) relayed to empty: events/s between
 *   the first and the last committed batch, as the admin API counts them;
 * - latency: an application committing 1,000 events/s (one event per transaction, written with
 *   `writeOutboxEvent`, validated) while a read_committed consumer in this process notes when each
 *   event arrives: commit-to-consumer p50/p99, per database;
 * - peak RSS (VmHWM) of the liberator process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { stringify } from "yaml";
import { writeOutboxEvent } from "../src/outbox.js";
import { outboxConfig } from "../src/sources/outbox/config.js";
import { initDdl } from "../src/sources/outbox/ddl.js";
import { outboxTableName } from "../src/sources/outbox/sql.js";
import { createDatabaseIn, dropDatabaseIn, mysqlConnection, pgClient, type DatabaseKind } from "../test/harness/clients.js";
import { repoRoot } from "../test/harness/paths.js";
import { freePort } from "../test/harness/ports.js";
import type { HarnessInfo } from "../test/harness/start.js";
import { uniqueName } from "../test/harness/util.js";
import { ORDER_EVENT } from "../test/integration/outbox/order-event.js";
import { childNodeArgs } from "./node-args.js";
import type { BenchContext, BenchResult } from "./report.js";

const PREFILL = 200_000;
const RATE = 1_000;
const WARMUP_MS = 3_000;
const MEASURE_MS = 15_000;
const WRITERS = 4;

interface Db {
  kind: DatabaseKind;
  database: string;
  exec(sql: string): Promise<void>;
  count(): Promise<number>;
  write(seq: number): Promise<number>;
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
    close: () => c.end(),
  };
}

const PREFILL_SQL: Record<DatabaseKind, string> = {
  postgres: `INSERT INTO outbox (aggregate_type, aggregate_id, type, payload)
    SELECT 'Order', (g % 1000)::text, 'OrderPlaced', jsonb_build_object('orderId', g, 'seq', g, 'amount', '12.30') FROM generate_series(1, ${PREFILL}) g`,
  mariadb: `INSERT INTO outbox (aggregate_type, aggregate_id, type, payload)
    SELECT 'Order', seq % 1000, 'OrderPlaced', JSON_OBJECT('orderId', seq, 'seq', seq, 'amount', '12.30') FROM seq_1_to_${PREFILL}`,
};

/** One run of liberator with one outbox connector on `db`, and the peak RSS seen. */
async function daemon(info: HarnessInfo, db: Db, topicPrefix: string, schemaFile: string) {
  const dir = mkdtempSync(join(tmpdir(), "liberator-bench-outbox-"));
  const file = join(dir, "connectors.yaml");
  const port = await freePort();
  const name = uniqueName("bench_outbox");
  const server = db.kind === "postgres" ? info.postgres : info.mariadb;
  const connector = {
    name,
    type: "outbox",
    dialect: db.kind === "postgres" ? "postgres" : "mysql",
    connection: { host: server.host, port: server.port, user: server.user, password: server.password, database: db.database },
    topicPrefix,
    events: { OrderPlaced: { schema: schemaFile } },
  };
  const parsed = outboxConfig.parse(connector);
  for (const statement of initDdl(parsed, outboxTableName(parsed))) await db.exec(statement);
  writeFileSync(file, stringify({ kafka: { brokers: info.kafka.brokers, topics: { replicationFactor: 1 } }, admin: { port }, log: { level: "warn" }, connectors: [connector] }));
  let child: ChildProcess | undefined;
  let peakKb = 0;
  let sampler: NodeJS.Timeout | undefined;
  const admin = `http://127.0.0.1:${port}`;
  return {
    start() {
      child = spawn(process.execPath, [...childNodeArgs(), "--import", "tsx", join(repoRoot, "src/cli.ts"), "run", "-c", file], { cwd: repoRoot, stdio: ["ignore", "ignore", "inherit"] });
      sampler = setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child!.pid}/status`, "utf8"));
          if (m) peakKb = Math.max(peakKb, Number(m[1]));
        } catch {
          // not started yet, or gone
        }
      }, 200);
    },
    /** Events committed so far, as the admin API reports them. */
    async records(): Promise<number> {
      const res = await fetch(`${admin}/connectors`).catch(() => undefined);
      if (!res?.ok) return 0;
      return ((await res.json()) as { records: number }[])[0]?.records ?? 0;
    },
    async ready(): Promise<void> {
      for (;;) {
        const res = await fetch(`${admin}/readyz`).catch(() => undefined);
        if (res?.status === 200) return;
        await sleep(100);
      }
    },
    /** The runtime's Kafka commit times, as the upper bounds of its histogram buckets: p50 and p99 in ms. */
    async commits(): Promise<{ p50: number; p99: number }> {
      const text = await (await fetch(`${admin}/metrics`)).text();
      const buckets = [...text.matchAll(/^liberator_batch_seconds_bucket\{([^}]*)\} (\d+)$/gm)]
        .filter((m) => m[1]!.includes('stage="commit"'))
        .map((m) => ({ le: Number(/le="([^"]+)"/.exec(m[1]!)![1]), n: Number(m[2]) }));
      const total = buckets.at(-1)?.n ?? 0;
      const bound = (q: number) => (buckets.find((b) => b.n >= q * total)?.le ?? NaN) * 1000;
      return { p50: bound(0.5), p99: bound(0.99) };
    },
    async stop(): Promise<number> {
      clearInterval(sampler);
      child?.kill("SIGTERM");
      await new Promise((r) => child?.once("exit", r));
      return peakKb / 1024;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Relays a pre-filled outbox; events/s from the first to the last committed batch. */
async function throughput(info: HarnessInfo, kind: DatabaseKind, schemaFile: string): Promise<{ rate: number; rssMb: number }> {
  const database = await createDatabaseIn(info, kind, uniqueName("bench_outbox"));
  const db = await openDb(info, kind, database);
  try {
    const run = await daemon(info, db, uniqueName("bench_tp"), schemaFile);
    await db.exec(PREFILL_SQL[kind]);
    run.start();
    let first: { at: number; n: number } | undefined;
    let n = 0;
    while (n < PREFILL) {
      await sleep(20);
      n = await run.records();
      if (n > 0 && !first) first = { at: performance.now(), n };
    }
    const seconds = (performance.now() - first!.at) / 1000;
    const rate = (PREFILL - first!.n) / seconds;
    while ((await db.count()) > 0) await sleep(50);
    return { rate, rssMb: await run.stop() };
  } finally {
    await db.close();
    await dropDatabaseIn(info, kind, database);
  }
}

/** An application committing RATE events/s, one per transaction; commit-to-consumer latency. */
/** Applications committing RATE events/s, one per transaction; commit-to-consumer latency. */
async function latency(
  info: HarnessInfo,
  kind: DatabaseKind,
  schemaFile: string,
): Promise<{ p50: number; p99: number; max: number; n: number; rate: number; commits: { p50: number; p99: number }; rssMb: number }> {
  const database = await createDatabaseIn(info, kind, uniqueName("bench_outbox"));
  // several application connections: one alone cannot always commit 1,000 transactions a second here
  const writers = await Promise.all(Array.from({ length: WRITERS }, () => openDb(info, kind, database)));
  const db = writers[0]!;
  const prefix = uniqueName("bench_lat");
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  const kafka = new Kafka({ clientId: "bench-outbox", brokers: info.kafka.brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName("bench_outbox"), readUncommitted: false, maxWaitTimeInMs: 10 });
  try {
    const run = await daemon(info, db, prefix, schemaFile);
    run.start();
    await run.ready();
    await db.write(0); // creates the topic before the consumer subscribes
    while ((await run.records()) < 1) await sleep(20);
    await consumer.connect();
    await consumer.subscribe({ topic: `${prefix}.Order`, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const now = performance.now();
        for (const m of batch.messages) {
          const at = committedAt.get(m.headers?.id?.toString() ?? "");
          if (at !== undefined) latencies.push(now - at);
        }
      },
    });
    await sleep(1_000);
    const started = performance.now();
    let written = 0;
    // one event per transaction, RATE per second in all, each writer catching up after a slow commit
    await Promise.all(
      writers.map(async (writer, w) => {
        let seq = 0;
        for (let elapsed = 0; elapsed < WARMUP_MS + MEASURE_MS; elapsed = performance.now() - started) {
          const due = Math.floor(((elapsed / 1000) * RATE) / WRITERS);
          while (seq < due) {
            const id = await writer.write(1 + w + WRITERS * seq++);
            if (performance.now() - started >= WARMUP_MS) {
              committedAt.set(String(id), performance.now());
              written++;
            }
          }
          await sleep(1);
        }
      }),
    );
    await sleep(1_000);
    const commits = await run.commits();
    const rssMb = await run.stop();
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    return { p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? NaN, n: latencies.length, rate: written / (MEASURE_MS / 1000), commits, rssMb };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await Promise.all(writers.map((w) => w.close()));
    await dropDatabaseIn(info, kind, database);
  }
}

export async function run(context: BenchContext): Promise<BenchResult> {
  const info = await context.servers();
  const schemaFile = join(mkdtempSync(join(tmpdir(), "liberator-bench-schema-")), "order-placed.avsc");
  writeFileSync(schemaFile, JSON.stringify(ORDER_EVENT));
  const pg = await throughput(info, "postgres", schemaFile);
  const maria = await throughput(info, "mariadb", schemaFile);
  const pgLatency = await latency(info, "postgres", schemaFile);
  const mariaLatency = await latency(info, "mariadb", schemaFile);
  const rss = Math.max(pg.rssMb, maria.rssMb, pgLatency.rssMb, mariaLatency.rssMb);
  return {
    figures: [
      { name: "relay, pre-filled outbox, PostgreSQL", value: pg.rate, unit: "events/s", reference: { value: 14_500, label: "polling relay on PostgreSQL, default (laptop)" } },
      { name: "relay, pre-filled outbox, MariaDB", value: maria.rate, unit: "events/s", reference: { value: 14_500, label: "polling relay on PostgreSQL, default (laptop)" } },
      { name: `commit to consumer p99, PostgreSQL, ${RATE} events/s`, value: pgLatency.p99, unit: "ms", reference: { value: 50, label: "goal" } },
      { name: `commit to consumer p50, PostgreSQL`, value: pgLatency.p50, unit: "ms" },
      { name: `commit to consumer p99, MariaDB, ${RATE} events/s`, value: mariaLatency.p99, unit: "ms", reference: { value: 100, label: "goal" } },
      { name: `commit to consumer p50, MariaDB`, value: mariaLatency.p50, unit: "ms" },
      { name: "peak RSS of liberator", value: rss, unit: "MB" },
    ],
    fields: {
      events_per_s: Math.round(pg.rate),
      pg_p99_ms: Number(pgLatency.p99.toFixed(1)),
      mysql_p99_ms: Number(mariaLatency.p99.toFixed(1)),
    },
    notes: [
      `liberator run in a child process (tsx), exactly-once (one Kafka transaction per batch, position included) and Avro (embedded registry), default batch of 10,000`,
      `throughput: ${PREFILL.toLocaleString("en-US")} events pre-filled, counted from the first to the last committed batch; the rows are deleted after each commit`,
      `latency: one event per transaction through writeOutboxEvent from ${WRITERS} connections, ${MEASURE_MS / 1000} s after ${WARMUP_MS / 1000} s of warm-up; committed ${Math.round(pgLatency.rate)} and ${Math.round(mariaLatency.rate)} events/s of ${RATE} asked; max ${pgLatency.max.toFixed(0)} ms (PostgreSQL, NOTIFY), ${mariaLatency.max.toFixed(0)} ms (MariaDB, adaptive polling), over ${pgLatency.n} and ${mariaLatency.n} events`,
      `the Kafka transaction of each batch (the runtime's commit stage, histogram bucket bounds): p50 ≤ ${pgLatency.commits.p50} ms, p99 ≤ ${pgLatency.commits.p99} ms (PostgreSQL run), p50 ≤ ${mariaLatency.commits.p50} ms, p99 ≤ ${mariaLatency.commits.p99} ms (MariaDB run)`,
      `the broker, both databases, liberator and this process share the same 2 cores (load average ${loadavg()[0]!.toFixed(1)} at the end)`,
    ],
  };
}
