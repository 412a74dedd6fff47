import { spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SchemaChangeNotice } from "../../../src/runtime/governance/schema-changes.js";
import type { CatalogItem, StreamEntry } from "../../../src/runtime/governance/stream-catalog.js";
import { createDatabase, dropDatabase, harness, mysqlConnection, readTopic, uniqueName, waitFor } from "../../harness/index.js";
import { repoRoot } from "../../harness/paths.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { decodeAvro, outboxFixture, type OutboxFixture } from "../outbox/fixtures.js";

/*
 * The demo's shape (binlog source → Kafka → sql sink into PostgreSQL) with an outbox beside it,
 * and a `streams:` block that gives the streams owners, PII handling and a deprecation.
 */
const HASH_KEY = "integration-test-hash-key";
const id = uniqueName("gov").slice(-8);
const clear = {
  names: [`Ada Lovelace ${id}`, `Grace Hopper ${id}`],
  emails: [`ada.${id}@example.com`, `grace.${id}@example.com`],
  ssns: [`ssn-a-${id}`, `ssn-g-${id}`],
  defaultEmail: `nobody.${id}@example.invalid`,
  note: `secret-note-${id}`,
};

type Field = { name: string; type: unknown; default?: unknown; [property: string]: unknown };

describe("stream governance on a running pipeline", () => {
  const info = harness();
  const source = uniqueName("gov_cdc");
  const sink = uniqueName("gov_sink");
  let database: string;
  let reporting: string;
  let conn: Connection;
  let outbox: OutboxFixture;
  let daemon: Daemon;
  let customers: string;
  let orders: string;
  let events: string;

  const get = async <T>(path: string): Promise<T> => (await fetch(`${daemon.adminUrl}${path}`)).json() as Promise<T>;
  /** The catalog entry of a stream something has written. */
  const stream = async (topic: string) => (await get<CatalogItem[]>("/streams")).find((s) => s.topic === topic && s.written) as (StreamEntry & { written: true }) | undefined;
  const notices = async (subject: string) =>
    (await readTopic(info.kafka.brokers, "_liberator_schema_changes", { timeoutMs: 30_000 }))
      .filter((r) => r.value !== null)
      .map((r) => JSON.parse(r.value!.toString()) as SchemaChangeNotice)
      .filter((n) => n.subject === subject);

  beforeAll(async () => {
    database = await createDatabase("mariadb");
    reporting = await createDatabase("postgres");
    conn = await mysqlConnection(info, database);
    await conn.query(`CREATE TABLE customers (
      id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200) NOT NULL DEFAULT '${clear.defaultEmail}',
      ssn CHAR(40) NULL, phone VARCHAR(40) NULL)`);
    await conn.query("CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(10,2) NOT NULL)");
    await conn.query("INSERT INTO customers VALUES (1, ?, ?, ?, '555-0100')", [clear.names[0], clear.emails[0], clear.ssns[0]]);
    await conn.query("INSERT INTO orders VALUES (1, 1, 12.50), (2, 1, 99.99)");
    outbox = await outboxFixture("mariadb", { errors: { tolerance: "all" } });
    customers = `${source}.${database}.customers`;
    orders = `${source}.${database}.orders`;
    events = `${outbox.name}.Order`;
    const { host, port, user, password } = info.mariadb;
    daemon = await startDaemon({
      root: {
        streams: {
          hashKey: HASH_KEY,
          defaults: { owner: "data-platform" },
          connectors: { [source]: { namespace: "shop" } },
          topics: {
            [customers]: {
              owner: "crm",
              description: "Customers of the shop",
              pii: { name: "mask", email: "hash", ssn: "drop", phone: "clear" },
            },
            [orders]: { financial: ["amount"], deprecated: { replacement: `${orders}_v2`, date: "2030-06-30", reason: "split by region" } },
            [events]: { owner: "checkout", pii: { note: "mask" } },
          },
        },
      },
      connectors: [
        { name: source, type: "binlog", connection: { host, port, user, password }, include: [`${database}.*`], heartbeat: { intervalMs: 500 } },
        outbox.raw(),
        {
          name: sink,
          type: "sql",
          dialect: "postgres",
          connection: { host: info.postgres.host, port: info.postgres.port, user: info.postgres.user, password: info.postgres.password, database: reporting },
          topics: [orders],
          mode: "upsert",
          autoCreate: true,
        },
      ],
    });
    await daemon.waitReady();
    const app = await outbox.app();
    await app.exec(
      `INSERT INTO outbox (aggregate_type, aggregate_id, type, payload) VALUES ('Order', '99', 'OrderPlaced', '${JSON.stringify({ orderId: "not-a-number", seq: 1, amount: "1.00", note: clear.note })}')`,
    );
    await app.write({ aggregateType: "Order", aggregateId: 7, type: "OrderPlaced", payload: { orderId: 7, seq: 1, amount: "5.00", note: clear.note } });
    await app.close();
    await waitFor(async () => (await stream(customers)) && (await stream(orders)) && (await stream(events)), { timeoutMs: 60_000, message: "the catalog to list the three streams" });
  });

  afterAll(async () => {
    await daemon?.stop();
    await conn?.end();
    await outbox?.cleanup();
    if (database) await dropDatabase("mariadb", database);
    if (reporting) await dropDatabase("postgres", reporting);
  });

  it("registers schemas whose record and field properties carry the metadata, read back from the registry", async () => {
    const latest = await get<{ schema: string }>(`/subjects/${customers}-value/versions/latest`);
    const schema = JSON.parse(latest.schema) as { fields: Field[]; [property: string]: unknown };
    expect(schema).toMatchObject({ doc: "Customers of the shop", "liberator.owner": "crm", "liberator.namespace": "shop", "liberator.description": "Customers of the shop" });
    const row = (schema.fields[0]!.type as [string, { fields: Field[] }])[1].fields;
    const field = (name: string) => row.find((f) => f.name === name);
    expect(field("name")).toMatchObject({ type: "string", "liberator.pii": "masked" });
    expect(field("email")).toMatchObject({ type: "string", "liberator.pii": "hashed" });
    expect(field("phone")).toMatchObject({ "liberator.pii": "clear" });
    expect(field("ssn")).toBeUndefined();
    const ordersSchema = JSON.parse((await get<{ schema: string }>(`/subjects/${orders}-value/versions/latest`)).schema) as { fields: Field[]; [p: string]: unknown };
    expect(ordersSchema).toMatchObject({ "liberator.owner": "data-platform", "liberator.deprecated": true, "liberator.deprecated.replacement": `${orders}_v2` });
    expect((ordersSchema.fields[0]!.type as [string, { fields: Field[] }])[1].fields.find((f) => f.name === "amount")).toMatchObject({ "liberator.financial": true });
  });

  it("lists every stream at GET /streams with its owner, PII fields and schema version, and `streams show` says how each PII field is handled", async () => {
    const c = await stream(customers);
    expect(c).toMatchObject({ connector: source, connectorType: "binlog", source: { db: database, table: "customers" }, key: ["id"], owner: "crm", namespace: "shop", schemaVersion: 1 });
    expect(c!.pii).toEqual([
      { field: "name", column: "name", handling: "masked", by: "stream" },
      { field: "email", column: "email", handling: "hashed", by: "stream" },
      { field: "ssn", column: "ssn", handling: "dropped", by: "stream" },
      { field: "phone", column: "phone", handling: "clear", by: "stream" },
    ]);
    expect(await stream(orders)).toMatchObject({ owner: "data-platform", financial: ["amount"], deprecated: { replacement: `${orders}_v2`, date: "2030-06-30" }, schemaVersion: 1 });
    expect(await stream(events)).toMatchObject({ connectorType: "outbox", owner: "checkout", subject: `${events}-shop.events.OrderPlaced`, schemaVersion: 1 });
    expect((await fetch(`${daemon.adminUrl}/streams/no.such.topic`)).status).toBe(404);

    const show = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli.ts"), "streams", "show", customers, "-c", daemon.configFile], { cwd: repoRoot, encoding: "utf8" });
    expect(show.status).toBe(0);
    expect(show.stdout).toMatch(/owner\s+crm/);
    expect(show.stdout).toContain("email: hashed (keyed HMAC-SHA256: joins still work)");
    expect(show.stdout).toContain("ssn: dropped (not published)");
    expect(show.stdout).toMatch(new RegExp(`schema\\s+${customers.replace(/\./g, "\\.")}-value v1`));
  });

  it("hashes with the keyed HMAC, so the same email hashes the same in every stream", async () => {
    const records = await readTopic(info.kafka.brokers, customers, { expect: 1 });
    const value = (await decodeAvro(daemon.adminUrl, records[0]!.value)) as { after: Record<string, unknown> };
    expect(value.after).toMatchObject({ id: 1, name: "****", email: createHmac("sha256", HASH_KEY).update(clear.emails[0]!).digest("hex"), phone: "555-0100" });
    expect(value.after).not.toHaveProperty("ssn");
  });

  it("publishes exactly one notice naming the new field when a captured table gets a column, even across a kill -9", async () => {
    const subject = `${customers}-value`;
    await conn.query("ALTER TABLE customers ADD COLUMN loyalty INT NULL");
    await conn.query("INSERT INTO customers (id, name, email, ssn, loyalty) VALUES (2, ?, ?, ?, 3)", [clear.names[1], clear.emails[1], clear.ssns[1]]);
    await waitFor(async () => (await stream(customers))?.schemaVersion === 2, { timeoutMs: 60_000, message: "the catalog to show version 2" });
    const [notice, ...more] = (await notices(subject)).filter((n) => n.newVersion === 2);
    expect(more).toEqual([]);
    expect(notice).toMatchObject({ topic: customers, oldVersion: 1, newVersion: 2, compatibility: "BACKWARD", removed: [], changed: [] });
    expect(notice!.added.map((f) => f.field)).toEqual(["loyalty"]);
    expect(logLines(daemon).filter((l) => l.msg.startsWith(`schema change: ${subject} v1 → v2`))).toHaveLength(1);

    await daemon.kill();
    daemon = await daemon.restart();
    await daemon.waitReady();
    await conn.query("INSERT INTO customers (id, name, email, loyalty) VALUES (3, 'Edsger', 'e@example.org', 1)");
    await readTopic(info.kafka.brokers, customers, { expect: (r) => r.filter((x) => x.value !== null).length >= 3, timeoutMs: 60_000 });
    expect((await notices(subject)).map((n) => n.newVersion)).toEqual([1, 2]);
  });

  it("warns at start about a deprecated stream, and when a sink reads it", async () => {
    const warnings = () => logLines(daemon).filter((l) => l.level === "warn").map((l) => l.msg);
    await waitFor(async () => warnings().some((m) => m.startsWith(`connector "${sink}" reads stream "${orders}", which is deprecated`)), { timeoutMs: 30_000, message: "the sink's warning" });
    expect(warnings()).toContain(`stream "${orders}" is deprecated: use "${orders}_v2" instead; it stops being written on 2030-06-30; split by region`);
  });

  it("never lets a masked, hashed or dropped value appear in clear in any topic it could reach: streams, dead letters, registry, catalog, notices, offsets", async () => {
    const dlq = await readTopic(info.kafka.brokers, `_liberator_dlq.${outbox.name}`, { expect: 1 });
    const dead = JSON.parse(dlq[0]!.value!.toString()) as Record<string, unknown>;
    expect(dead).toMatchObject({ orderId: "not-a-number", note: "****" });
    const published = [customers, orders, events, `_liberator_dlq.${outbox.name}`, "_liberator_schemas", "_liberator_schema_changes", "_liberator_streams"];
    const values = [...clear.names, ...clear.emails, ...clear.ssns, clear.note];
    expect(await scanTopics(info.kafka.brokers, [...published, "_liberator_offsets"], values)).toEqual([]);
    // a masked column's default is no schema default either; the binlog source's own position keeps
    // the table's definition (its schema history), defaults included: docs/governance.md says so
    expect(await scanTopics(info.kafka.brokers, published, [clear.defaultEmail])).toEqual([]);
  });
});

/** The daemon's log lines that are JSON (pino). */
function logLines(daemon: Daemon): { level: string; msg: string }[] {
  return daemon
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { level: string; msg: string });
}

/** Every byte of every record (keys, values, headers; aborted transactions included) searched for each secret. */
async function scanTopics(brokers: string[], topics: string[], secrets: string[]): Promise<string[]> {
  const kafka = new Kafka({ clientId: "gov-scan", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const remaining = new Map<string, bigint>();
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) if (BigInt(p.high) > BigInt(p.low)) remaining.set(`${topic}:${p.partition}`, BigInt(p.high));
  }
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: uniqueName("gov_scan"), readUncommitted: true, maxWaitTimeInMs: 100 });
  const found = new Set<string>();
  const needles = secrets.map((s) => [s, Buffer.from(s)] as const);
  const check = (where: string, data: Buffer | string | undefined | null) => {
    if (data === undefined || data === null) return;
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
    for (const [text, needle] of needles) if (bytes.includes(needle)) found.add(`${text} in ${where}`);
  };
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const key = `${payload.topic}:${payload.partition}`;
    const end = remaining.get(key);
    if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) remaining.delete(key);
    if (remaining.size === 0) done();
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  if (remaining.size === 0) done();
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const where = `${batch.topic}@${m.offset}`;
        check(where, m.key);
        check(where, m.value);
        for (const [name, value] of Object.entries(m.headers ?? {})) for (const v of [value].flat()) check(`${where} header ${name}`, v);
      }
    },
  });
  await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error(`scan not done: ${[...remaining.keys()].join(", ")}`)), 60_000))]);
  await consumer.disconnect();
  return [...found];
}
