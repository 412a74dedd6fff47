import { z } from "zod";
import { bool, databaseConnection, duration, int, port, zeroDatePolicy } from "../../runtime/config/fields.js";
import { connectorSchema } from "../../runtime/config/load.js";

/** The outbox table's columns, by role; each name is configurable. */
const columns = z
  .strictObject({
    id: z.string().min(1).default("id"),
    aggregateType: z.string().min(1).default("aggregate_type"),
    aggregateId: z.string().min(1).default("aggregate_id"),
    type: z.string().min(1).default("type"),
    payload: z.string().min(1).default("payload"),
    /** A JSON object of string values, copied into the Kafka headers; "" when the table has none. */
    headers: z.string().default("headers"),
    /** The event time (Kafka timestamp); "" when the table has none (then: when it was relayed). */
    createdAt: z.string().default("created_at"),
    /** Set when a row is published under `cleanup: mark`. */
    publishedAt: z.string().min(1).default("published_at"),
  })
  .prefault({});

/** Where an event type's Avro schema comes from: an .avsc file or inline, or a registry subject. */
const eventType = z
  .strictObject({
    /** The schema itself (a mapping in YAML, or JSON text), or the path of an .avsc file. */
    schema: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    /** The registry subject the schema is taken from (without `schema`), or written under (with it). */
    subject: z.string().min(1).optional(),
    /** The version of `subject` to take; the latest one when left out. */
    version: z.union([int(1), z.literal("latest")]).default("latest"),
  })
  .refine((e) => e.schema !== undefined || e.subject !== undefined, "needs `schema` (an .avsc path or the schema) or `subject` (taken from the registry)");

export const outboxConfig = connectorSchema({
  /** mysql covers MariaDB. */
  dialect: z.enum(["postgres", "mysql"]),
  /** `port` defaults to 5432 for postgres and 3306 for mysql. */
  connection: databaseConnection(5432).extend({ port: port().optional() }),
  /** `table`, `schema.table` (PostgreSQL, default schema public) or `database.table` (MySQL, default connection.database). */
  table: z.string().min(1).default("outbox"),
  columns,
  /** The connector name by default, as for the other sources. */
  topicPrefix: z.string().regex(/^[A-Za-z0-9._-]+$/, "must be letters, digits, '.', '_' or '-'").optional(),
  /**
   * Topic of each event: `{name}` is replaced by the row's column `name` (any column of the table)
   * or by the topicPrefix. Default: "{topicPrefix}.{<columns.aggregateType>}".
   */
  topic: z.string().min(1).optional(),
  /** delete: published rows are deleted; mark: `columns.publishedAt` is set and the rows stay. */
  cleanup: z.enum(["delete", "mark"]).default("delete"),
  /** The longest wait between two polls while idle (PostgreSQL: a safety net behind LISTEN/NOTIFY). */
  pollIntervalMs: duration().default(1_000),
  /** The first wait after an empty poll; it doubles up to pollIntervalMs (MySQL's adaptive polling). */
  minPollIntervalMs: duration().default(5),
  /** PostgreSQL: wake on NOTIFY from the trigger `liberator outbox init` creates. */
  notify: bool().default(true),
  /** PostgreSQL: the NOTIFY channel; default "liberator_<table>". */
  notifyChannel: z.string().min(1).max(63).optional(),
  /** Event types and their Avro schemas. */
  events: z.record(z.string().min(1), eventType).default({}),
  /** A folder of `<type>.avsc` files for event types not listed in `events`. */
  schemaDir: z.string().min(1).optional(),
  /** Subject of event values: `{topic}`, `{record}` (the schema's full name), `{type}`. TopicRecordNameStrategy by default. */
  subject: z.string().min(1).default("{topic}-{record}"),
  /** Rows written by `liberator outbox triggers`: MySQL zero dates read as null, or an error. */
  mapping: z.strictObject({ zeroDates: zeroDatePolicy(), partialZeroDates: zeroDatePolicy() }).prefault({}),
}).transform((c) => ({
  ...c,
  topicPrefix: c.topicPrefix ?? c.name,
  connection: { ...c.connection, port: c.connection.port ?? (c.dialect === "postgres" ? 5432 : 3306) },
  topic: c.topic ?? `{topicPrefix}.{${c.columns.aggregateType}}`,
}));

export type OutboxConfig = z.infer<typeof outboxConfig>;
export type OutboxColumns = OutboxConfig["columns"];
export type EventTypeConfig = OutboxConfig["events"][string];
