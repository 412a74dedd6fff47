/**
 * Shared set-up of the query source's integration tests: a fresh database per test file on the
 * harness MariaDB or PostgreSQL, a config as the loader would parse it, and a source read
 * directly (the runtime's Kafka part is covered by the daemon tests).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Connection } from "mysql2/promise";
import type pg from "pg";
import { afterAll, beforeAll, expect } from "vitest";
import { stringify } from "yaml";
import type { Type } from "avsc";
import type { AvroSchema, ChangeRecord, Position, Source } from "../../../src/runtime/connector.js";
import type { Envelope } from "../../../src/runtime/sql-types/envelope.js";
import { avroType } from "../../../src/runtime/avro/logical-types.js";
import { querySpec } from "../../../src/sources/query/index.js";
import type { QueryConfig } from "../../../src/sources/query/config.js";
import { testContext } from "../../acceptance/source-suite.js";
import { createDatabase, dropDatabase, harness, mysqlConnection, pgClient, readTopic, uniqueName } from "../../harness/index.js";
import { repoRoot } from "../../harness/paths.js";

export type Kind = "mariadb" | "postgres";

/** One database for a test file: SQL runs through `exec`, connection settings for configs in `connection`. */
export interface TestDatabase {
  kind: Kind;
  name: string;
  connection: Record<string, unknown>;
  dialect: "mysql" | "postgres";
  /** The schema (PostgreSQL) or database (MariaDB) tables are created in. */
  schema: string;
  exec(sql: string, params?: unknown[]): Promise<unknown[]>;
  /** A second session, for transactions left open. */
  session(): Promise<Session>;
  close(): Promise<void>;
}

export interface Session {
  exec(sql: string, params?: unknown[]): Promise<unknown[]>;
  close(): Promise<void>;
}

async function mysqlSession(database: string): Promise<Session> {
  const conn: Connection = await mysqlConnection(harness(), database, { dateStrings: true });
  return {
    exec: async (sql, params) => (await conn.query(sql, params))[0] as unknown[],
    close: () => conn.end(),
  };
}

async function pgSession(database: string): Promise<Session> {
  const client: pg.Client = await pgClient(harness(), database);
  return {
    exec: async (sql, params) => (await client.query(sql, params)).rows as unknown[],
    close: () => client.end(),
  };
}

export async function testDatabase(kind: Kind): Promise<TestDatabase> {
  const name = await createDatabase(kind);
  const info = harness();
  const session = kind === "mariadb" ? mysqlSession : pgSession;
  const main = await session(name);
  const connection =
    kind === "mariadb"
      ? { host: info.mariadb.host, port: info.mariadb.port, user: info.mariadb.user, password: info.mariadb.password, database: name }
      : { host: info.postgres.host, port: info.postgres.port, user: info.postgres.user, password: info.postgres.password, database: name };
  return {
    kind,
    name,
    connection,
    dialect: kind === "mariadb" ? "mysql" : "postgres",
    schema: kind === "mariadb" ? name : "public",
    exec: (sql, params) => main.exec(sql, params),
    session: () => session(name),
    close: async () => {
      await main.close();
      await dropDatabase(kind, name);
    },
  };
}

/**
 * A fresh database for the enclosing describe block, created before its tests and dropped after
 * them; the handle reaches it once it exists.
 */
export function databaseFor(kind: Kind): TestDatabase {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await testDatabase(kind);
  });
  afterAll(async () => db?.close());
  const current = (): TestDatabase => {
    if (!db) throw new Error("the test database is created in beforeAll: use it inside tests and hooks");
    return db;
  };
  return new Proxy({} as TestDatabase, {
    get: (_target, prop): unknown => Reflect.get(current(), prop),
    ownKeys: () => Reflect.ownKeys(current()),
    getOwnPropertyDescriptor: (_target, prop) => Reflect.getOwnPropertyDescriptor(current(), prop),
  });
}

/** A parsed query config over `db` with fast polling (the defaults are for production). */
export function queryConfig(db: TestDatabase, fields: Record<string, unknown>): QueryConfig {
  return querySpec.config.parse({
    name: uniqueName("q"),
    type: "query",
    dialect: db.dialect,
    connection: db.connection,
    pollIntervalMs: 100,
    delayMs: 200,
    ...fields,
  });
}

export function openSource(config: QueryConfig, signal?: AbortSignal): Source {
  return querySpec.create(config, testContext(config.name, signal));
}

/**
 * Reads batches until `until` holds for what arrived, acking each; fails after `timeoutMs`. Long:
 * MySQL lists transactions server-wide, so another suite's open write transaction on the shared
 * server rightly holds our horizon back for a while.
 */
export async function readUntil(source: Source, until: (records: ChangeRecord[]) => boolean, timeoutMs = 60_000): Promise<{ records: ChangeRecord[]; position: Position }> {
  const records: ChangeRecord[] = [];
  let position: Position = null;
  const deadline = Date.now() + timeoutMs;
  while (!until(records)) {
    if (Date.now() > deadline) throw new Error(`after ${timeoutMs} ms only ${records.length} records: ${JSON.stringify(records.map((r) => describe(r)))}`);
    const batch = await source.read();
    if (!batch) break;
    records.push(...batch.records);
    position = batch.position;
    await source.ack(batch.position);
  }
  return { records, position };
}

/** Reads for `ms` and returns everything that arrived (to show that nothing does). */
export async function readFor(source: Source, ms: number): Promise<ChangeRecord[]> {
  const records: ChangeRecord[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const batch = await source.read();
    if (!batch) break;
    records.push(...batch.records);
  }
  return records;
}

/** "op:id" of a record, "tombstone:id" for a tombstone: compact to compare. */
export function describe(record: ChangeRecord, keyField = "id"): string {
  const key = record.key as Record<string, unknown> | null;
  const id = key ? String(key[keyField]) : "?";
  if (record.value === null) return `tombstone:${id}`;
  return `${(record.value as Envelope).op}:${id}`;
}

export function after(record: ChangeRecord): Record<string, unknown> {
  return (record.value as Envelope).after!;
}

export function expectOps(records: ChangeRecord[], expected: string[], keyField = "id"): void {
  expect(records.map((r) => describe(r, keyField))).toEqual(expected);
}

/** `liberator validate` on a config of these connectors, as a user runs it. */
export function validate(connectors: unknown[]): { code: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), "liberator-validate-"));
  const file = join(dir, "connectors.yaml");
  writeFileSync(file, stringify({ kafka: { brokers: harness().kafka.brokers }, connectors }));
  const res = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli.ts"), "validate", "-c", file], { cwd: repoRoot, encoding: "utf8", timeout: 60_000 });
  return { code: res.status, out: `${res.stdout}${res.stderr}` };
}

/** A query connector entry of connectors.yaml over `db`, fast polling. */
export function connectorEntry(db: TestDatabase, name: string, fields: Record<string, unknown>): Record<string, unknown> {
  return { name, type: "query", dialect: db.dialect, connection: db.connection, pollIntervalMs: 100, delayMs: 200, ...fields };
}

export interface Decoded {
  key: Record<string, unknown> | null;
  value: Envelope | null;
}

const readers = new Map<string, Promise<Type>>();

/** A Confluent wire-format body decoded with its schema from the daemon's embedded registry. */
async function decodeWire(adminUrl: string, data: Buffer | null): Promise<unknown> {
  if (data === null) return null;
  const id = data.readInt32BE(1);
  let type = readers.get(`${adminUrl}#${id}`);
  if (!type) {
    type = fetch(`${adminUrl}/schemas/ids/${id}`)
      .then((res) => res.json() as Promise<{ schema: string }>)
      .then((body) => avroType(JSON.parse(body.schema) as AvroSchema));
    readers.set(`${adminUrl}#${id}`, type);
  }
  return (await type).fromBuffer(data.subarray(5));
}

/** Every committed record of `topic` (read_committed), keys and values decoded. */
export async function readDecoded(adminUrl: string, topic: string, expect?: number, timeoutMs = 30_000): Promise<Decoded[]> {
  const records = await readTopic(harness().kafka.brokers, topic, { ...(expect === undefined ? {} : { expect }), timeoutMs });
  return Promise.all(
    records.map(async (r) => ({
      key: (await decodeWire(adminUrl, r.key)) as Record<string, unknown> | null,
      value: (await decodeWire(adminUrl, r.value)) as Envelope | null,
    })),
  );
}

/** "op:id" per decoded record, as `describe` does for source records. */
export function opsOf(records: readonly Decoded[], keyField = "id"): string[] {
  return records.map((r) => `${r.value === null ? "tombstone" : r.value.op}:${String(r.key?.[keyField])}`);
}
