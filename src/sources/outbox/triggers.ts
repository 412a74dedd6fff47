/**
 * Trigger-based change capture, for legacy databases where the binlog or logical replication
 * cannot be used (no REPLICATION privilege, a managed database): INSERT, UPDATE and DELETE
 * triggers on a table write the row's before and after images into the outbox, in the same
 * transaction as the change. The relay turns those rows into the envelope of DESIGN.md §3.
 *
 * Images hold every value as text, the same text the relay's own reads get (PG_READ_OPTIONS,
 * MYSQL_READ_OPTIONS), so the SQL type mapping converts it exactly as it converts a SELECTed row:
 * - PostgreSQL: `col::text` inside a function whose SET clauses fix DateStyle, TimeZone,
 *   extra_float_digits, IntervalStyle and bytea_output, whatever the application's session uses;
 * - MySQL/MariaDB: CAST(… AS CHAR CHARACTER SET utf8mb4) (FLOAT through DOUBLE, as the mapping
 *   selects it), binary strings and BIT as HEX, TIMESTAMP as UNIX_TIMESTAMP (the session's time
 *   zone would shift its text).
 * An UPDATE that changes none of the captured columns writes nothing.
 */
import { ConfigError } from "../../runtime/errors.js";
import type { ColumnInfo } from "../../runtime/sql-types/mapping.js";
import { mapColumn, parseSqlType } from "../../runtime/sql-types/mapping.js";
import type { TableDescription } from "../../runtime/db/introspect.js";
import { formatTimestamp } from "../../runtime/avro/values.js";
import type { Dialect } from "../../runtime/sql-types/mapping.js";
import type { OutboxColumns } from "./config.js";
import { quoteIdentifier, qualifiedName, sqlLiteral, type TableName } from "../../runtime/db/identifiers.js";
import { objectName } from "./sql.js";

/** The `type` of rows the triggers write; `aggregate_type` holds the captured table. */
export const CHANGE_EVENT_TYPE = "liberator.change";

/** The payload the triggers write. */
export interface ChangeImage {
  op: "c" | "u" | "d";
  before: Record<string, string | null> | null;
  after: Record<string, string | null> | null;
}

type Encoding = "text" | "hex" | "epoch";

const MYSQL_BINARY = new Set(["bit", "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"]);

function encodingOf(column: ColumnInfo): Encoding {
  if (column.dialect === "postgres") return "text";
  const base = parseSqlType(column.sqlType, "mysql").base;
  if (MYSQL_BINARY.has(base)) return "hex";
  return base === "timestamp" ? "epoch" : "text";
}

/** An image value back in the form the driver would have read it. */
export function decodeImageValue(column: ColumnInfo, value: string | null): unknown {
  if (value === null) return null;
  switch (encodingOf(column)) {
    case "hex":
      return Buffer.from(value, "hex");
    case "epoch": {
      const [seconds, fraction = ""] = value.split(".");
      const micros = Number(seconds) * 1_000_000 + Number(fraction.padEnd(6, "0").slice(0, 6));
      // UNIX_TIMESTAMP gives 0 for MySQL's zero TIMESTAMP: 1970-01-01 00:00:00 UTC is outside its range
      return micros === 0 ? "0000-00-00 00:00:00" : formatTimestamp(micros, false);
    }
    default:
      return value;
  }
}

export interface TriggerTarget {
  dialect: Dialect;
  outbox: TableName;
  columns: OutboxColumns;
  /** The captured table. */
  table: TableName;
  description: TableDescription;
  /** The captured columns: the primary key's and these (all when empty). */
  capture: readonly string[];
  /** MariaDB: CREATE OR REPLACE TRIGGER swaps a trigger without a moment in which changes go uncaptured. */
  mariadb?: boolean;
}

export interface TriggerDdl {
  /** Statements that (re)create the triggers, each runnable on its own. */
  create: string[];
  /** Statements that remove them. */
  drop: string[];
  /** The columns the images hold. */
  columns: string[];
}

/** The captured columns: every column, or the chosen ones plus the primary key, in table order. */
export function capturedColumns(description: TableDescription, chosen: readonly string[], table: string): ColumnInfo[] {
  const names = new Set(description.columns.map((c) => c.name));
  const unknown = chosen.filter((c) => !names.has(c));
  if (unknown.length > 0) throw new ConfigError([`--columns: ${table} has no column ${unknown.map((c) => `"${c}"`).join(", ")} (its columns: ${[...names].join(", ")})`]);
  if (chosen.length === 0) return description.columns;
  const wanted = new Set([...description.primaryKey, ...chosen]);
  return description.columns.filter((c) => wanted.has(c.name));
}

export function triggerDdl(target: TriggerTarget): TriggerDdl {
  const columns = capturedColumns(target.description, target.capture, `${target.table.schema}.${target.table.table}`);
  const key = target.description.primaryKey.length > 0 ? target.description.primaryKey : columns.map((c) => c.name);
  const build = target.dialect === "postgres" ? postgresTriggers : mysqlTriggers;
  return { ...build(target, columns, key), columns: columns.map((c) => c.name) };
}

const aggregate = (t: TableName) => `${t.schema}.${t.table}`;

function insertInto(target: TriggerTarget, d: Dialect): string {
  const c = target.columns;
  return `INSERT INTO ${qualifiedName(target.outbox, d)} (${[c.aggregateType, c.aggregateId, c.type, c.payload].map((n) => quoteIdentifier(n, d)).join(", ")})`;
}

function postgresTriggers(target: TriggerTarget, columns: ColumnInfo[], key: string[]): Omit<TriggerDdl, "columns"> {
  const d = "postgres";
  const q = (n: string) => quoteIdentifier(n, d);
  // jsonb_build_object takes at most 100 arguments: build wide rows in slices and merge them
  const image = (row: string) => {
    const slices: string[] = [];
    for (let i = 0; i < columns.length; i += 50) {
      slices.push(`jsonb_build_object(${columns.slice(i, i + 50).map((c) => `${sqlLiteral(c.name, d)}, ${row}.${q(c.name)}::text`).join(", ")})`);
    }
    return slices.join(" || ");
  };
  const keyText = (row: string) => `concat_ws(',', ${key.map((k) => `${row}.${q(k)}::text`).join(", ")})`;
  const fn = { schema: target.table.schema, table: objectName("liberator_cdc", target.table.table) };
  const table = qualifiedName(target.table, d);
  const body = `BEGIN
  ${insertInto(target, d)}
  VALUES (${sqlLiteral(aggregate(target.table), d)},
    CASE WHEN TG_OP = 'DELETE' THEN ${keyText("OLD")} ELSE ${keyText("NEW")} END,
    ${sqlLiteral(CHANGE_EVENT_TYPE, d)},
    jsonb_build_object('op', CASE TG_OP WHEN 'INSERT' THEN 'c' WHEN 'UPDATE' THEN 'u' ELSE 'd' END,
      'before', CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE ${image("OLD")} END,
      'after', CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE ${image("NEW")} END));
  RETURN NULL;
END`;
  const changed = `ROW(${columns.map((c) => `OLD.${q(c.name)}::text`).join(", ")}) IS DISTINCT FROM ROW(${columns.map((c) => `NEW.${q(c.name)}::text`).join(", ")})`;
  const name = qualifiedName(fn, d);
  return {
    create: [
      `CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql
  SET DateStyle = 'ISO, YMD' SET TimeZone = 'UTC' SET IntervalStyle = 'iso_8601' SET extra_float_digits = 3 SET bytea_output = 'hex'
AS $liberator$
${body}
$liberator$`,
      `DROP TRIGGER IF EXISTS "liberator_cdc" ON ${table}`,
      `CREATE TRIGGER "liberator_cdc" AFTER INSERT OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`,
      `DROP TRIGGER IF EXISTS "liberator_cdc_update" ON ${table}`,
      `CREATE TRIGGER "liberator_cdc_update" AFTER UPDATE ON ${table} FOR EACH ROW WHEN (${changed}) EXECUTE FUNCTION ${name}()`,
    ],
    drop: [`DROP TRIGGER IF EXISTS "liberator_cdc" ON ${table}`, `DROP TRIGGER IF EXISTS "liberator_cdc_update" ON ${table}`, `DROP FUNCTION IF EXISTS ${name}()`],
  };
}

function mysqlTriggers(target: TriggerTarget, columns: ColumnInfo[], key: string[]): Omit<TriggerDdl, "columns"> {
  const d = "mysql";
  const q = (n: string) => quoteIdentifier(n, d);
  const value = (row: string, c: ColumnInfo) => {
    const ref = `${row}.${q(c.name)}`;
    switch (encodingOf(c)) {
      case "hex":
        return `HEX(${ref})`;
      case "epoch":
        return `CAST(UNIX_TIMESTAMP(${ref}) AS CHAR)`;
      default:
        return `CAST(${mapColumn(c).select(ref)} AS CHAR CHARACTER SET utf8mb4)`;
    }
  };
  const image = (row: string) => `JSON_OBJECT(${columns.map((c) => `${sqlLiteral(c.name, d)}, ${value(row, c)}`).join(", ")})`;
  const keyText = (row: string) => `CONCAT_WS(',', ${key.map((k) => `CAST(${row}.${q(k)} AS CHAR CHARACTER SET utf8mb4)`).join(", ")})`;
  const insert = (op: "c" | "u" | "d") => {
    const row = op === "d" ? "OLD" : "NEW";
    const before = op === "c" ? "NULL" : image("OLD");
    const after = op === "d" ? "NULL" : image("NEW");
    return `${insertInto(target, d)} VALUES (${sqlLiteral(aggregate(target.table), d)}, ${keyText(row)}, ${sqlLiteral(CHANGE_EVENT_TYPE, d)}, JSON_OBJECT('op', '${op}', 'before', ${before}, 'after', ${after}))`;
  };
  const unchanged = columns.map((c) => `OLD.${q(c.name)} <=> NEW.${q(c.name)}`).join(" AND ");
  const name = (event: string) => ({ schema: target.table.schema, table: objectName("liberator_cdc", target.table.table, `_${event}`) });
  const table = qualifiedName(target.table, d);
  const create = target.mariadb ? "CREATE OR REPLACE TRIGGER" : "CREATE TRIGGER";
  const trigger = (event: string, when: string, body: string) => `${create} ${qualifiedName(name(event), d)} AFTER ${when} ON ${table} FOR EACH ROW ${body}`;
  const drops = ["ins", "upd", "del"].map((e) => `DROP TRIGGER IF EXISTS ${qualifiedName(name(e), d)}`);
  return {
    create: [
      // MySQL has no CREATE OR REPLACE TRIGGER: between the drop and the create, changes go uncaptured (docs/outbox.md)
      ...(target.mariadb ? [] : drops),
      trigger("ins", "INSERT", insert("c")),
      trigger("upd", "UPDATE", `IF NOT (${unchanged}) THEN ${insert("u")}; END IF`),
      trigger("del", "DELETE", insert("d")),
    ],
    drop: drops,
  };
}
