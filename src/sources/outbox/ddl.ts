/**
 * What `liberator outbox init` prints or runs: the outbox table with the configured column names,
 * the index `cleanup: mark` reads through, and on PostgreSQL the statement trigger whose NOTIFY
 * wakes the relay (delivered at commit, one per transaction).
 */
import type { OutboxConfig } from "./config.js";
import { quoteIdentifier, qualifiedName, sqlLiteral, type TableName } from "../../runtime/db/identifiers.js";
import { objectName } from "./sql.js";

export interface NotifyNames {
  channel: string;
  /** The trigger function, in the outbox table's schema. */
  fn: TableName;
  trigger: string;
}

export function notifyNames(config: Pick<OutboxConfig, "notifyChannel">, table: TableName): NotifyNames {
  return {
    channel: config.notifyChannel ?? objectName("liberator", table.table).toLowerCase(),
    fn: { schema: table.schema, table: objectName("liberator_notify", table.table) },
    trigger: "liberator_notify",
  };
}

/**
 * A query for the enabled triggers on the outbox whose function NOTIFYs the channel: the one
 * `outbox init` creates, or the user's own.
 */
export function notifyTriggerQuery(table: TableName, channel: string): string {
  return `SELECT t.tgname AS name FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid
    WHERE n.nspname = ${sqlLiteral(table.schema, "postgres")} AND c.relname = ${sqlLiteral(table.table, "postgres")}
      AND t.tgenabled <> 'D' AND strpos(p.prosrc, ${sqlLiteral(channel, "postgres")}) > 0`;
}

export function initDdl(config: Pick<OutboxConfig, "dialect" | "columns" | "cleanup" | "notifyChannel">, table: TableName): string[] {
  return config.dialect === "postgres" ? postgresDdl(config, table) : mysqlDdl(config, table);
}

function postgresDdl(config: Pick<OutboxConfig, "columns" | "cleanup" | "notifyChannel">, table: TableName): string[] {
  const q = (n: string) => quoteIdentifier(n, "postgres");
  const c = config.columns;
  const name = qualifiedName(table, "postgres");
  const columns = [
    `${q(c.id)} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY`,
    `${q(c.aggregateType)} text NOT NULL`,
    `${q(c.aggregateId)} text NOT NULL`,
    `${q(c.type)} text NOT NULL`,
    `${q(c.payload)} jsonb NOT NULL`,
    ...(c.headers ? [`${q(c.headers)} jsonb`] : []),
    ...(c.createdAt ? [`${q(c.createdAt)} timestamptz NOT NULL DEFAULT now()`] : []),
    ...(config.cleanup === "mark" ? [`${q(c.publishedAt)} timestamptz`] : []),
  ];
  const notify = notifyNames(config, table);
  const fn = qualifiedName(notify.fn, "postgres");
  return [
    `CREATE TABLE IF NOT EXISTS ${name} (\n  ${columns.join(",\n  ")}\n)`,
    ...(config.cleanup === "mark"
      ? [`CREATE INDEX IF NOT EXISTS ${q(objectName("liberator_unpublished", table.table))} ON ${name} (${q(c.id)}) WHERE ${q(c.publishedAt)} IS NULL`]
      : []),
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $liberator$\nBEGIN\n  PERFORM pg_notify(${sqlLiteral(notify.channel, "postgres")}, '');\n  RETURN NULL;\nEND\n$liberator$`,
    `DROP TRIGGER IF EXISTS ${q(notify.trigger)} ON ${name}`,
    `CREATE TRIGGER ${q(notify.trigger)} AFTER INSERT ON ${name} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
  ];
}

function mysqlDdl(config: Pick<OutboxConfig, "columns" | "cleanup">, table: TableName): string[] {
  const q = (n: string) => quoteIdentifier(n, "mysql");
  const c = config.columns;
  const columns = [
    `${q(c.id)} BIGINT NOT NULL AUTO_INCREMENT`,
    `${q(c.aggregateType)} VARCHAR(255) NOT NULL`,
    `${q(c.aggregateId)} VARCHAR(255) NOT NULL`,
    `${q(c.type)} VARCHAR(255) NOT NULL`,
    `${q(c.payload)} JSON NOT NULL`,
    ...(c.headers ? [`${q(c.headers)} JSON NULL`] : []),
    ...(c.createdAt ? [`${q(c.createdAt)} TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)`] : []),
    ...(config.cleanup === "mark" ? [`${q(c.publishedAt)} TIMESTAMP(6) NULL`] : []),
    `PRIMARY KEY (${q(c.id)})`,
    ...(config.cleanup === "mark" ? [`KEY ${q("liberator_unpublished")} (${q(c.publishedAt)}, ${q(c.id)})`] : []),
  ];
  return [`CREATE TABLE IF NOT EXISTS ${qualifiedName(table, "mysql")} (\n  ${columns.join(",\n  ")}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`];
}
