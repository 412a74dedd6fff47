/**
 * An outbox on the harness MariaDB or PostgreSQL for the outbox tests: a fresh database with the
 * table `outbox init` creates, the relay's config, an order-event schema, and the application's
 * connections.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Type } from "avsc";
import type mysql from "mysql2/promise";
import type pg from "pg";
import { writeOutboxEvent, type OutboxEvent } from "../../../src/outbox.js";
import type { AvroSchema } from "../../../src/runtime/connector.js";
import { avroType } from "../../../src/runtime/avro/logical-types.js";
import { outboxConfig, type OutboxConfig } from "../../../src/sources/outbox/config.js";
import { initDdl } from "../../../src/sources/outbox/ddl.js";
import { outboxTableName } from "../../../src/sources/outbox/sql.js";
import { afterAll, beforeAll } from "vitest";
import { createDatabase, dropDatabase, harness, mysqlConnection, pgClient, uniqueName } from "../../harness/index.js";
import type { Daemon } from "../../support/daemon.js";
import { ORDER_EVENT } from "./order-event.js";

export { ORDER_EVENT } from "./order-event.js";

export type Kind = "postgres" | "mariadb";

/** An application connection, inside or outside a transaction. */
export interface AppConnection {
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  exec(sql: string): Promise<void>;
  rows(sql: string): Promise<Record<string, unknown>[]>;
  write(event: OutboxEvent): Promise<number>;
  close(): Promise<void>;
}

export interface OutboxFixture {
  kind: Kind;
  database: string;
  name: string;
  /** The relay's config, parsed, with `overrides` applied to the raw config. */
  config(overrides?: Record<string, unknown>): OutboxConfig;
  /** The raw config as it would stand in connectors.yaml. */
  raw(overrides?: Record<string, unknown>): Record<string, unknown>;
  app(): Promise<AppConnection>;
  /** Events still in the outbox table. */
  pending(): Promise<number>;
  cleanup(): Promise<void>;
}

/** A fresh outbox for a describe block, and the daemon its test may start; both gone after it. */
export function outboxSuite(kind: Kind, base?: Record<string, unknown>): { fixture: OutboxFixture; daemon: Daemon | undefined } {
  const suite = { fixture: undefined as unknown as OutboxFixture, daemon: undefined as Daemon | undefined };
  beforeAll(async () => {
    suite.fixture = await outboxFixture(kind, base);
  });
  afterAll(async () => {
    await suite.daemon?.stop();
    await suite.fixture?.cleanup();
  });
  return suite;
}

export function schemaFile(schema: object): string {
  const dir = mkdtempSync(join(tmpdir(), "liberator-outbox-"));
  const file = join(dir, "event.avsc");
  writeFileSync(file, JSON.stringify(schema));
  return file;
}

export async function outboxFixture(kind: Kind, base: Record<string, unknown> = {}): Promise<OutboxFixture> {
  const info = harness();
  const database = await createDatabase(kind);
  const name = uniqueName(`ob_${kind}`);
  const connection =
    kind === "postgres"
      ? { host: info.postgres.host, port: info.postgres.port, user: info.postgres.user, password: info.postgres.password, database }
      : { host: info.mariadb.host, port: info.mariadb.port, user: info.mariadb.user, password: info.mariadb.password, database };
  const schema = schemaFile(ORDER_EVENT);
  const raw = (overrides: Record<string, unknown> = {}) => ({
    name,
    type: "outbox",
    dialect: kind === "postgres" ? "postgres" : "mysql",
    connection,
    topicPrefix: name,
    events: { OrderPlaced: { schema } },
    ...base,
    ...overrides,
  });
  const config = (overrides: Record<string, unknown> = {}) => outboxConfig.parse(raw(overrides));
  const app = () => (kind === "postgres" ? pgApp(info, database) : mysqlApp(info, database));
  const setup = await app();
  const parsed = config();
  for (const statement of initDdl(parsed, outboxTableName(parsed))) await setup.exec(statement);
  await setup.close();
  return {
    kind,
    database,
    name,
    raw,
    config,
    app,
    pending: async () => {
      const a = await app();
      try {
        return Number((await a.rows("SELECT COUNT(*) AS n FROM outbox"))[0]!.n);
      } finally {
        await a.close();
      }
    },
    cleanup: () => dropDatabase(kind, database),
  };
}

const schemas = { OrderPlaced: ORDER_EVENT };

async function pgApp(info: ReturnType<typeof harness>, database: string): Promise<AppConnection> {
  const client: pg.Client = await pgClient(info, database);
  // dropping the database ends a connection a failed test left open: not an unhandled error
  client.on("error", () => undefined);
  return {
    begin: async () => void (await client.query("BEGIN")),
    commit: async () => void (await client.query("COMMIT")),
    rollback: async () => void (await client.query("ROLLBACK")),
    exec: async (sql) => void (await client.query(sql)),
    rows: async (sql) => (await client.query(sql)).rows as Record<string, unknown>[],
    write: (event) => writeOutboxEvent(client, event, { schemas }),
    close: () => client.end(),
  };
}

async function mysqlApp(info: ReturnType<typeof harness>, database: string): Promise<AppConnection> {
  const conn: mysql.Connection = await mysqlConnection(info, database);
  return {
    begin: async () => void (await conn.query("BEGIN")),
    commit: async () => void (await conn.query("COMMIT")),
    rollback: async () => void (await conn.query("ROLLBACK")),
    exec: async (sql) => void (await conn.query(sql)),
    rows: async (sql) => (await conn.query(sql))[0] as Record<string, unknown>[],
    write: (event) => writeOutboxEvent(conn, event, { schemas }),
    close: () => conn.end(),
  };
}

/** An OrderPlaced event of order `orderId`, the `seq`-th of that order. */
export function orderPlaced(orderId: number, seq: number, amount = "10.00"): OutboxEvent {
  return { aggregateType: "Order", aggregateId: orderId, type: "OrderPlaced", payload: { orderId, seq, amount }, headers: { trace: `t-${orderId}-${seq}` } };
}

const readers = new Map<string, Promise<Type>>();

/** A Confluent-framed Avro value decoded with its writer schema, fetched from the daemon's registry API. */
export async function decodeAvro(adminUrl: string, data: Buffer | null): Promise<unknown> {
  if (data === null) return null;
  const id = data.readInt32BE(1);
  const key = `${adminUrl}#${id}`;
  let type = readers.get(key);
  if (!type) {
    type = fetch(`${adminUrl}/schemas/ids/${id}`)
      .then((res) => res.json() as Promise<{ schema: string }>)
      .then((body) => avroType(JSON.parse(body.schema) as AvroSchema));
    readers.set(key, type);
  }
  return (await type).fromBuffer(data.subarray(5));
}

/** The subjects the daemon's registry holds. */
export async function subjects(adminUrl: string): Promise<string[]> {
  return (await fetch(`${adminUrl}/subjects`)).json() as Promise<string[]>;
}

/** A Kafka header as text (kafkajs hands them over as Buffers). */
export const header = (headers: Record<string, unknown>, name: string): string | undefined => {
  const v = headers[name];
  return Buffer.isBuffer(v) ? v.toString() : typeof v === "string" ? v : undefined;
};
