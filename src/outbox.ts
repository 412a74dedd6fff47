/**
 * `liberator/outbox`: the application side of the transactional outbox.
 *
 *   await client.query("BEGIN");
 *   await client.query("UPDATE orders SET status = 'paid' WHERE id = $1", [42]);
 *   await writeOutboxEvent(client, { aggregateType: "Order", aggregateId: 42, type: "OrderPaid", payload }, { schemas });
 *   await client.query("COMMIT");
 *
 * The payload is validated against the event type's Avro schema before the row is inserted, so
 * a bad event fails inside the application, whose transaction then rolls back, instead of
 * reaching the relay. It is stored in the JSON form the relay reads back exactly (longs past 2^53
 * and decimals as strings, bytes as base64). Works with a `pg` client and a `mysql2/promise`
 * connection; it loads neither, nor Kafka.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Type } from "avsc";
import type { AvroSchema } from "./runtime/connector.js";
import { DataError, ErrorCode } from "./runtime/errors.js";
import { avroType } from "./runtime/avro/logical-types.js";
import { fromJson, PayloadError, toJson } from "./sources/outbox/payload.js";
import { quoteIdentifier } from "./runtime/db/identifiers.js";
import { responseError } from "./runtime/schema-registry/registry-client.js";
import type { OutboxColumns } from "./sources/outbox/config.js";

export { PayloadError } from "./sources/outbox/payload.js";

export interface OutboxEvent {
  aggregateType: string;
  /** Becomes the Kafka key: events of one aggregate stay in order on one partition. */
  aggregateId: string | number | bigint;
  type: string;
  payload: unknown;
  /** Copied into the Kafka record's headers. */
  headers?: Record<string, string>;
}

/** An Avro schema as an object or JSON text. */
export type AvroSchemaInput = object | string;

/** The schema of an event type; undefined when it has none. */
export type SchemaLookup = (type: string) => AvroSchemaInput | undefined | Promise<AvroSchemaInput | undefined>;

/** The columns the helper writes, named as the outbox connector's `columns` names them ("" headers: the table has none). */
export type WrittenColumns = Pick<OutboxColumns, "id" | "aggregateType" | "aggregateId" | "type" | "payload" | "headers">;

export interface OutboxOptions {
  /** The schemas by event type: a map, or a lookup such as `avscDirectory(dir)` or `registrySchemas(…)`. */
  schemas: Record<string, AvroSchemaInput> | SchemaLookup;
  /** `outbox` by default; `schema.table` or `database.table` also work. */
  table?: string;
  columns?: Partial<WrittenColumns>;
  /** Told apart by the client otherwise: a mysql2 connection has `execute`. */
  dialect?: "postgres" | "mysql";
}

/** A pg client (or pool client) or a mysql2/promise connection inside the application's transaction. */
export interface Queryable {
  query(sql: string, values?: unknown[]): Promise<unknown>;
}

const DEFAULT_COLUMNS: WrittenColumns = { id: "id", aggregateType: "aggregate_type", aggregateId: "aggregate_id", type: "type", payload: "payload", headers: "headers" };

/** Validates the event against its type's schema and inserts it; returns the row id. */
export async function writeOutboxEvent(tx: Queryable, event: OutboxEvent, options: OutboxOptions): Promise<number> {
  const [id] = await writeOutboxEvents(tx, [event], options);
  return id!;
}

/** Several events in one INSERT, in order; all are validated before any is written. */
export async function writeOutboxEvents(tx: Queryable, events: readonly OutboxEvent[], options: OutboxOptions): Promise<number[]> {
  if (events.length === 0) return [];
  const payloads = await Promise.all(events.map(async (e) => JSON.stringify(toJson(...(await validate(e, options))))));
  const dialect = options.dialect ?? ("execute" in tx ? "mysql" : "postgres");
  const c = { ...DEFAULT_COLUMNS, ...options.columns };
  const names = [c.aggregateType, c.aggregateId, c.type, c.payload, ...(c.headers ? [c.headers] : [])];
  const values: unknown[] = [];
  const rows = events.map((e, i) => {
    const row = [e.aggregateType, String(e.aggregateId), e.type, payloads[i], ...(c.headers ? [e.headers ? JSON.stringify(e.headers) : null] : [])];
    const first = values.length;
    values.push(...row);
    return `(${row.map((_, j) => (dialect === "postgres" ? `$${first + j + 1}` : "?")).join(", ")})`;
  });
  const q = (n: string) => quoteIdentifier(n, dialect);
  const table = (options.table ?? "outbox").split(".").map(q).join(".");
  const sql = `INSERT INTO ${table} (${names.map(q).join(", ")}) VALUES ${rows.join(", ")}`;
  if (dialect === "postgres") {
    const result = (await tx.query(`${sql} RETURNING ${q(c.id)}`, values)) as { rows: Record<string, unknown>[] };
    return result.rows.map((r) => Number(r[c.id]));
  }
  // a multi-row INSERT … VALUES is a "simple insert": InnoDB gives it consecutive ids in every innodb_autoinc_lock_mode
  const [result] = (await tx.query(sql, values)) as [{ insertId: number }];
  return events.map((_, i) => Number(result.insertId) + i);
}

const compiled = new WeakMap<object, Type>();
const compiledText = new Map<string, Type>();

function compileSchema(schema: AvroSchemaInput): Type {
  if (typeof schema === "string") {
    let type = compiledText.get(schema);
    if (!type) compiledText.set(schema, (type = avroType(JSON.parse(schema) as AvroSchema)));
    return type;
  }
  let type = compiled.get(schema);
  if (!type) compiled.set(schema, (type = avroType(schema as AvroSchema)));
  return type;
}

async function validate(event: OutboxEvent, options: OutboxOptions): Promise<[Type, unknown]> {
  const lookup = options.schemas;
  const schema = typeof lookup === "function" ? await lookup(event.type) : lookup[event.type];
  const about = `event "${event.type}" of ${event.aggregateType} ${String(event.aggregateId)}`;
  if (schema === undefined) {
    throw new DataError(ErrorCode.OUTBOX_EVENT_TYPE_UNKNOWN, `${about}: no schema for event type "${event.type}"`, { fix: "add its schema to the `schemas` option" });
  }
  const type = compileSchema(schema);
  try {
    return [type, fromJson(type, event.payload)];
  } catch (err) {
    if (err instanceof PayloadError) throw new PayloadError(err.field, err.reason, about);
    throw err;
  }
}

/** `<type>.avsc` files in a folder, read once each. */
export function avscDirectory(dir: string): SchemaLookup {
  const cache = new Map<string, string | undefined>();
  return (type) => {
    if (!/^[\w.-]+$/.test(type)) return undefined;
    if (!cache.has(type)) {
      let text: string | undefined;
      try {
        text = readFileSync(join(resolve(dir), `${type}.avsc`), "utf8");
      } catch {
        text = undefined;
      }
      cache.set(type, text);
    }
    return cache.get(type);
  };
}

export interface RegistrySchemasOptions {
  /** A Confluent-compatible registry, or Liberator's admin port (it serves the embedded registry). */
  url: string;
  /** The subject of an event type's schema (the same as the relay's `events.<type>.subject`). */
  subject(type: string): string;
  basicAuth?: { username: string; password: string };
  /** How long a fetched latest version is used before it is fetched again. Default 60 s. */
  maxAgeMs?: number;
}

/** The latest schema of each event type's subject, from a schema registry. */
export function registrySchemas(options: RegistrySchemasOptions): SchemaLookup {
  const cache = new Map<string, { at: number; schema: Promise<string | undefined> }>();
  const maxAge = options.maxAgeMs ?? 60_000;
  const headers: Record<string, string> = { accept: "application/vnd.schemaregistry.v1+json" };
  if (options.basicAuth) headers.authorization = `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString("base64")}`;
  return (type) => {
    const cached = cache.get(type);
    if (cached && Date.now() - cached.at < maxAge) return cached.schema;
    const subject = options.subject(type);
    const url = new URL(`${options.url.replace(/\/$/, "")}/subjects/${encodeURIComponent(subject)}/versions/latest`);
    const schema = fetch(url, { headers }).then(async (res) => {
      if (res.status === 404) return undefined;
      if (!res.ok) throw responseError("GET", url, res.status, await res.text());
      return ((await res.json()) as { schema: string }).schema;
    });
    schema.catch(() => cache.delete(type));
    cache.set(type, { at: Date.now(), schema });
    return schema;
  };
}
