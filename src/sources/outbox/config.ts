import { z } from "zod";
import { bool, databaseConnection, dialectPort, duration, int, zeroDatePolicy } from "../../runtime/config/fields.js";
import { connectorSchema } from "../../runtime/config/load.js";

/** The outbox table's columns, by role; each name is configurable. */
const columns = z
  .strictObject({
    id: z.string().min(1).default("id").describe("the event id: the `id` header, and the key of a redelivery"),
    aggregateType: z.string().min(1).default("aggregate_type").describe("routes the event (see `topic`)"),
    aggregateId: z.string().min(1).default("aggregate_id").describe("the record key"),
    type: z.string().min(1).default("type").describe("the event type: picks its schema"),
    payload: z.string().min(1).default("payload").describe("the event, JSON"),
    headers: z.string().default("headers").describe('a JSON object of string values, copied into the Kafka headers; `""`: the table has none'),
    createdAt: z.string().default("created_at").describe('the event time (Kafka timestamp); `""`: the table has none (then: when it was relayed)'),
    publishedAt: z.string().min(1).default("published_at").describe("set when a row is published under `cleanup: mark`"),
  })
  .prefault({});

/** Where an event type's Avro schema comes from: an .avsc file or inline, or a registry subject. */
const eventType = z
  .strictObject({
    schema: z
      .union([z.string().min(1), z.record(z.string(), z.unknown())])
      .optional()
      .describe("the event type's Avro schema: a path to an `.avsc` file (relative to the working directory; or `${file:…}`), or the schema inline (YAML mapping or JSON text)"),
    subject: z
      .string()
      .min(1)
      .optional()
      .describe("without `schema`: the registry subject the schema is read from (`{type}` is replaced); with `schema`: the subject it is written under"),
    version: z.union([int(1), z.literal("latest")]).default("latest").describe("the version of `subject` to read"),
  })
  .refine((e) => e.schema !== undefined || e.subject !== undefined, "needs `schema` (an .avsc path or the schema) or `subject` (taken from the registry)");

export const outboxConfig = connectorSchema({
  dialect: z.enum(["postgres", "mysql"]).describe("`postgres` or `mysql` (MySQL and MariaDB)"),
  connection: databaseConnection(5432).extend({ port: dialectPort() }),
  table: z
    .string()
    .min(1)
    .default("outbox")
    .describe("`table`, `schema.table` (PostgreSQL, schema `public` by default) or `database.table` (MySQL, `connection.database` by default)"),
  columns,
  topicPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, "must be letters, digits, '.', '_' or '-'")
    .optional()
    .meta({ defaultText: "the connector name", description: "letters, digits, `.`, `_`, `-`" }),
  topic: z
    .string()
    .min(1)
    .optional()
    .meta({
      defaultText: "`{topicPrefix}.{aggregate_type}`",
      description:
        "the topic pattern: `{name}` is the row's column `name` (any column of the table; columns beyond the standard ones are read too) or the topicPrefix; follows a renamed `columns.aggregateType`",
    }),
  cleanup: z
    .enum(["delete", "mark"])
    .default("delete")
    .describe(
      "`delete`: published rows are deleted; `mark`: `published_at` is set and the rows stay (purge them yourself, e.g. `DELETE … WHERE published_at < now() - interval '7 days'`)",
    ),
  pollIntervalMs: duration()
    .default(1_000)
    .describe("the longest wait between two polls while idle (PostgreSQL: a safety net behind NOTIFY); also how long `read` waits before it reports an idle batch"),
  minPollIntervalMs: duration().default(5).describe("the first wait after an empty poll; it doubles up to `pollIntervalMs`"),
  notify: bool().default(true).describe("PostgreSQL: LISTEN for the trigger `outbox init` creates"),
  notifyChannel: z
    .string()
    .min(1)
    .max(63)
    .optional()
    .meta({ defaultText: "`liberator_<table>`", description: "PostgreSQL: the channel (name your own trigger's channel here)" }),
  events: z.record(z.string().min(1), eventType).default({}).meta({ keyName: "type" }),
  schemaDir: z.string().min(1).optional().describe("a folder of `<type>.avsc` files for event types not listed in `events`"),
  subject: z
    .string()
    .min(1)
    .default("{topic}-{record}")
    .describe('the subject event values are registered under (`{topic}`, `{record}` = the schema\'s full name, `{type}`); see "Schemas"'),
  mapping: z
    .strictObject({
      zeroDates: zeroDatePolicy().describe("rows from `outbox triggers`: MySQL's zero date as `null`, or an error"),
      partialZeroDates: zeroDatePolicy().describe("rows from `outbox triggers`: MySQL dates with a zero month, day or year as `null`, or an error"),
    })
    .prefault({}),
}).transform((c) => ({
  ...c,
  topicPrefix: c.topicPrefix ?? c.name,
  connection: { ...c.connection, port: c.connection.port ?? (c.dialect === "postgres" ? 5432 : 3306) },
  topic: c.topic ?? `{topicPrefix}.{${c.columns.aggregateType}}`,
}));

export type OutboxConfig = z.infer<typeof outboxConfig>;
export type OutboxColumns = OutboxConfig["columns"];
export type EventTypeConfig = OutboxConfig["events"][string];
