/**
 * A sql sink handed from worker to worker in cluster mode, as an operator's rolling restart does
 * it: two `liberator run` workers (compiled as the Dockerfile builds them) share one PostgreSQL
 * sink over Redis while this process produces into its topic (Avro, Kafka transactions, 1,000
 * records/s); the worker that runs the sink gets SIGTERM, the other resumes it, the stopped one is
 * started again, and so on. Each hand-over is timed from the moment the leaving worker handles
 * SIGTERM to the first batch the other commits to the target, and cut into phases from the two
 * workers' logs (same machine, same clock):
 *
 * - stop: the leaving worker stops the sink and puts its job back in the queue;
 * - pick-up: until the other worker's BullMQ processor has the job;
 * - open: the sink connects, claims its epoch, reads its offsets; the consumer connects;
 * - first write: the consumer joins its group, fetches, and the first batch commits.
 *
 * Beside them, measured between the hand-overs of the same run: a bare kafkajs consumer joining a
 * new group until its first batch, a bare BullMQ job pick-up by an idle worker, and a bare
 * PostgreSQL connection and statement; their sum is the floor a hand-over cannot go below. At the
 * end the table holds every produced record once, or the run fails.
 *
 * BENCH_HANDOFFS sets the number of hand-overs (12).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, Worker as BullWorker } from "bullmq";
import { Redis } from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { pino } from "pino";
import type { ChangeRecord } from "../src/runtime/connector.js";
import { ensureTopics } from "../src/runtime/kafka/admin.js";
import { createKafka } from "../src/runtime/kafka/client.js";
import { kafkaConfigSchema } from "../src/runtime/kafka/config.js";
import { TransactionalProducer } from "../src/runtime/kafka/producer.js";
import { schemaRegistryConfig } from "../src/runtime/schema-registry/config.js";
import { createSchemaService, type SchemaService } from "../src/runtime/schema-registry/index.js";
import { envelope, tableStream } from "../src/runtime/sql-types/envelope.js";
import { freePort } from "../test/harness/ports.js";
import type { HarnessInfo } from "../test/harness/start.js";
import { uniqueName } from "../test/harness/util.js";
import { buildLiberator, loadAverage, quantile, ratio, round, sleep, startLiberator, writeWorkerConfig, type Daemon } from "./daemon.js";
import type { BenchContext, BenchResult } from "./report.js";

const HAND_OVERS = Number(process.env.BENCH_HANDOFFS ?? 12);
/** Records per producer transaction, and the pause between two: about 1,000 records/s. */
const PER_TX = 20;
const TX_EVERY_MS = 20;

const log = pino({ level: "silent" });

/** A table without a key, written with plain inserts: a record written twice is a second row. */
const stream = (topic: string) =>
  tableStream(
    {
      columns: [
        { name: "id", dialect: "mysql", sqlType: "bigint(20)", nullable: false },
        { name: "note", dialect: "mysql", sqlType: "varchar(64)", nullable: false },
      ],
      primaryKey: [],
    },
    { topic },
  );

interface LogLine {
  time: number;
  msg: string;
  connector?: string;
}

/** One worker process and what it logged. */
interface Member {
  id: string;
  file: string;
  port: number;
  daemon: Daemon;
  lines: LogLine[];
}

const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

function startMember(cli: string, id: string, file: string, port: number): Member {
  const lines: LogLine[] = [];
  const daemon = startLiberator(file, port, cli, (raw) => {
    try {
      const l = JSON.parse(raw) as { time: string; msg: string; connector?: string };
      lines.push({ time: Date.parse(l.time), msg: l.msg, ...(l.connector ? { connector: l.connector } : {}) });
    } catch {
      // not a log line
    }
  });
  return { id, file, port, daemon, lines };
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const at = (m: Member, msg: string, since: number) => m.lines.find((l) => l.msg === msg && l.time >= since)?.time;

async function ready(m: Member): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${m.port}/readyz`).catch(() => undefined);
  return res?.status === 200;
}

/** Which worker runs the sink and how many records it wrote there, as the admin API says. */
async function owner(m: Member, name: string): Promise<{ worker: string; records: number } | undefined> {
  const res = await fetch(`http://127.0.0.1:${m.port}/connectors/${name}`).catch(() => undefined);
  if (!res?.ok) return undefined;
  const view = (await res.json()) as { state: string; worker: string | null; records: number };
  return view.state === "running" && view.worker ? { worker: view.worker, records: view.records } : undefined;
}

/** A kafkajs consumer in a new group, from connect to its first batch: what a sink's consumer does at least. */
async function bareJoin(brokers: string[], topic: string): Promise<number> {
  const kafka = new Kafka({ clientId: "bench-join", brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName("bench_join"), readUncommitted: false, maxWaitTimeInMs: 200, minBytes: 1 });
  const t0 = performance.now();
  let first!: () => void;
  const fetched = new Promise<void>((resolve) => (first = resolve));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ autoCommit: false, eachBatch: async () => first() });
  await fetched;
  const ms = performance.now() - t0;
  await consumer.disconnect();
  return ms;
}

/** An idle BullMQ worker (the cluster's options) taking a job that was just queued. */
async function barePickUp(redisUrl: string): Promise<number[]> {
  const prefix = uniqueName("bench_pickup");
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const fetching = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue("connectors", { connection, prefix });
  const times: number[] = [];
  let queuedAt = 0;
  let taken!: () => void;
  const worker = new BullWorker(
    "connectors",
    async () => {
      times.push(performance.now() - queuedAt);
      taken();
    },
    { connection: fetching, prefix, drainDelay: 1, lockDuration: 5000 },
  );
  await worker.waitUntilReady();
  try {
    for (let i = 0; i < 3; i++) {
      // idle first: the worker blocks waiting for a job, as the other workers of a cluster do
      await sleep(300);
      const done = new Promise<void>((resolve) => (taken = resolve));
      queuedAt = performance.now();
      await queue.add("job", {}, { jobId: `job-${i}` });
      await done;
    }
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    // BullMQ leaves the connections it is given open
    connection.disconnect();
    fetching.disconnect();
  }
  return times;
}

/** A new PostgreSQL connection and one statement: the least a sink's open does. */
async function bareConnect(info: HarnessInfo, database: string): Promise<number> {
  const t0 = performance.now();
  const client = new pg.Client({ ...info.postgres, database });
  await client.connect();
  await client.query("SELECT 1");
  const ms = performance.now() - t0;
  await client.end();
  return ms;
}

/** Produces PER_TX records every TX_EVERY_MS until stopped; `produced()` counts the committed ones. */
function produce(info: HarnessInfo, schemas: SchemaService, topic: string) {
  const s = stream(topic);
  const source = { connector: "bench", name: "bench", db: "shop", table: "events", ts_ms: 1_700_000_000_000 };
  const kafka = createKafka(kafkaConfigSchema.parse({ brokers: info.kafka.brokers }), log, "bench-handoff");
  const producer = new TransactionalProducer(kafka, { transactionalId: uniqueName("bench_handoff"), connector: "bench", transactionTimeoutMs: 60_000 });
  let produced = 0;
  let running = true;
  const loop = (async () => {
    await producer.connect();
    while (running) {
      const records: ChangeRecord[] = Array.from({ length: PER_TX }, (_, i) => {
        const row = { id: BigInt(produced + i + 1), note: `event ${produced + i + 1}` };
        return { topic, key: null, keySchema: s.keySchema, value: envelope("c", null, row, source), valueSchema: s.valueSchema };
      });
      const encoded = await schemas.serializer.serialize(records);
      await producer.commit(encoded.map((e) => ({ topic, key: e.key, value: e.value })));
      produced += PER_TX;
      await sleep(TX_EVERY_MS);
    }
    await producer.disconnect();
  })();
  return {
    produced: () => produced,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

interface HandOver {
  total: number;
  stop: number;
  pickUp: number;
  open: number;
  firstWrite: number;
}

export async function run(context: BenchContext): Promise<BenchResult> {
  const info = await context.servers();
  if (!info.redis) throw new Error("the handoff benchmark needs the harness's Redis");
  const cli = buildLiberator();
  const name = uniqueName("bench_handoff");
  const topic = `${name}.shop.events`;
  const registryTopic = uniqueName("bench_schemas");
  const database = uniqueName("bench_handoff");
  const adminDb = new pg.Client(info.postgres);
  await adminDb.connect();
  await adminDb.query(`CREATE DATABASE ${database}`);
  await adminDb.end();
  const db = new pg.Client({ ...info.postgres, database });
  await db.connect();
  const kafka = createKafka(kafkaConfigSchema.parse({ brokers: info.kafka.brokers }), log, "bench-handoff");
  await ensureTopics(kafka, [{ topic, partitions: 1, replicationFactor: 1 }]);
  const schemas = await createSchemaService(schemaRegistryConfig.parse({ topic: registryTopic }), { kafka, log });
  const producer = produce(info, schemas, topic);

  const dir = mkdtempSync(join(tmpdir(), "liberator-bench-handoff-"));
  const prefix = uniqueName("bench_cl");
  const members: Member[] = [];
  for (const id of ["w1", "w2"]) {
    const port = await freePort();
    const file = join(dir, `${id}.yaml`);
    writeWorkerConfig(file, info, {
      registryTopic,
      port,
      queuePrefix: prefix,
      workerId: id,
      logLevel: "info",
      connectors: [{ name, type: "sql", dialect: "postgres", connection: { ...info.postgres, database }, topics: [topic], table: "events", mode: "insert", batch: { maxRecords: 500 } }],
    });
    members.push(startMember(cli, id, file, port));
  }

  const handOvers: HandOver[] = [];
  const joins: number[] = [];
  const pickUps: number[] = [];
  const connects: number[] = [];
  const loads: string[] = [];
  try {
    await waitFor("both workers ready", async () => (await ready(members[0]!)) && (await ready(members[1]!)), 120_000);
    for (let round = 1; round <= HAND_OVERS; round++) {
      const runs = await waitFor(`round ${round}: the sink running and writing`, async () => {
        const o = await owner(members[0]!, name);
        return o && o.records > 0 ? o : undefined;
      });
      const i = members.findIndex((m) => m.id === runs.worker);
      const [leaving, staying] = [members[i]!, members[1 - i]!];
      const signalledAt = Date.now();
      await leaving.daemon.stop("SIGTERM");
      const wroteAt = await waitFor(`round ${round}: the first batch on ${staying.id}`, () => at(staying, "writing: first batch committed", signalledAt));
      const stoppingAt = at(leaving, "stopping: batches in flight are committed or abandoned, never waited out", signalledAt)!;
      const backAt = at(leaving, "left the cluster: connectors handed back", signalledAt)!;
      const takenAt = at(staying, "running the connector on this worker", signalledAt)!;
      const openedAt = at(staying, "connector running", signalledAt)!;
      handOvers.push({ total: wroteAt - stoppingAt, stop: backAt - stoppingAt, pickUp: takenAt - backAt, open: openedAt - takenAt, firstWrite: wroteAt - openedAt });
      loads.push(loadAverage());
      process.stderr.write(`hand-over ${round}: ${JSON.stringify(handOvers.at(-1))} load ${loads.at(-1)}\n`);

      // the ceilings, between hand-overs: the same machine under the same load
      joins.push(await bareJoin(info.kafka.brokers, topic));
      connects.push(await bareConnect(info, database));
      pickUps.push(...(round % 4 === 1 ? await barePickUp(info.redis.url) : []));

      members[i] = startMember(cli, leaving.id, leaving.file, leaving.port);
      await waitFor(`${leaving.id} back`, () => ready(members[i]!), 120_000);
    }
  } finally {
    await producer.stop();
    for (const m of members) await m.daemon.stop("SIGTERM");
  }

  // every produced record once: written by one worker or another, never by two
  const produced = producer.produced();
  const restart = startMember(cli, "w1", members[0]!.file, members[0]!.port);
  let rows: { n: number; distinct: number };
  try {
    rows = await waitFor(
      `${produced} rows`,
      async () => {
        const r = (await db.query<{ n: string; d: string }>("SELECT count(*) AS n, count(DISTINCT id) AS d FROM events")).rows[0]!;
        return Number(r.n) >= produced ? { n: Number(r.n), distinct: Number(r.d) } : undefined;
      },
      120_000,
    );
    await sleep(1000);
  } finally {
    await restart.daemon.stop("SIGTERM");
  }
  const final = (await db.query<{ n: string; d: string }>("SELECT count(*) AS n, count(DISTINCT id) AS d FROM events")).rows[0]!;
  await db.end();
  await schemas.close();
  const doubled = Number(final.n) - Number(final.d);
  const lost = produced - Number(final.d);
  if (doubled !== 0 || lost !== 0 || rows.n !== produced) throw new Error(`${produced} records produced; the table holds ${final.n} rows, ${final.d} distinct: ${lost} lost, ${doubled} doubled`);

  const phase = (k: keyof HandOver) => median(handOvers.map((h) => h[k]));
  const totals = handOvers.map((h) => h.total);
  const floor = median(pickUps) + median(connects) + median(joins);
  return {
    figures: [
      { name: "hand-over, median", value: median(totals), unit: "ms", reference: { value: floor, label: "bare pick-up + PostgreSQL connect + consumer join" } },
      { name: "hand-over, max", value: Math.max(...totals), unit: "ms", reference: { value: floor, label: "the same floor" } },
      { name: "  stop and requeue (median)", value: phase("stop"), unit: "ms" },
      { name: "  pick-up (median)", value: phase("pickUp"), unit: "ms", reference: { value: median(pickUps), label: "bare BullMQ pick-up" } },
      { name: "  open (median)", value: phase("open"), unit: "ms", reference: { value: median(connects), label: "bare PostgreSQL connect + SELECT 1" } },
      { name: "  join to first write (median)", value: phase("firstWrite"), unit: "ms", reference: { value: median(joins), label: "bare kafkajs join to first batch" } },
    ],
    fields: {
      hand_overs: handOvers.length,
      handoff_ms_median: round(median(totals)),
      handoff_ms_max: round(Math.max(...totals)),
      phases_ms_median: { stop: round(phase("stop")), pick_up: round(phase("pickUp")), open: round(phase("open")), first_write: round(phase("firstWrite")) },
      bare_consumer_join_ms_median: round(median(joins)),
      bare_bullmq_pickup_ms_median: round(median(pickUps)),
      bare_pg_connect_ms_median: round(median(connects)),
      floor_ratio: ratio(median(totals), floor),
      records: produced,
      lost,
      doubled,
    },
    notes: [
      `${handOvers.length} hand-overs of a PostgreSQL sql sink (insert, Avro, exactly once) between 2 compiled workers under a producer of ${(PER_TX * 1000) / TX_EVERY_MS} records/s; each from SIGTERM handled to the first batch committed by the other worker`,
      `each hand-over (ms): ${totals.map(Math.round).join(", ")}`,
      `${produced} records produced, each in the table once (0 lost, 0 doubled)`,
      `load average at each hand-over: ${loads.join(" | ")}`,
    ],
  };
}
