import { createHash } from "node:crypto";
import { ConfigError } from "../../runtime/errors.js";
import type { Dialect, OutboxConfig } from "./config.js";

/** A table as SQL names it: PostgreSQL schema or MySQL database, and the table. */
export interface TableName {
  /** PostgreSQL: the schema (public by default); MySQL: the database (the connection's by default). */
  schema: string;
  table: string;
}

/** `t`, `s.t`, or quoted parts (`"My Schema"."t"`, `` `db`.`t` ``). */
export function parseTableName(text: string, dialect: Dialect, defaultSchema: string | undefined, what = "table"): TableName {
  const parts = splitName(text);
  if (parts.length === 1 && defaultSchema !== undefined) return { schema: defaultSchema, table: parts[0]! };
  if (parts.length === 2) return { schema: parts[0]!, table: parts[1]! };
  const example = dialect === "postgres" ? "public.outbox" : "shop.outbox";
  throw new ConfigError([`${what} "${text}" must be ${parts.length === 1 ? "qualified" : "one or two names"}, e.g. ${example}`]);
}

/** The configured outbox table (PostgreSQL: schema public by default; MySQL: connection.database). */
export function outboxTableName(config: Pick<OutboxConfig, "table" | "dialect" | "connection">): TableName {
  return parseTableName(config.table, config.dialect, config.dialect === "postgres" ? "public" : config.connection.database, "table");
}

function splitName(text: string): string[] {
  const parts: string[] = [];
  const re = /\s*(?:"((?:[^"]|"")*)"|`((?:[^`]|``)*)`|([^."`\s]+))\s*(\.|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    parts.push(m[1]?.replace(/""/g, '"') ?? m[2]?.replace(/``/g, "`") ?? m[3]!);
    if (m[4] === "") break;
  }
  return re.lastIndex === text.length || parts.length === 0 ? parts : [];
}

export function quote(name: string, dialect: Dialect): string {
  return dialect === "postgres" ? `"${name.replace(/"/g, '""')}"` : `\`${name.replace(/`/g, "``")}\``;
}

export function qualified(name: TableName, dialect: Dialect): string {
  return `${quote(name.schema, dialect)}.${quote(name.table, dialect)}`;
}

/** A string literal; only for DDL, where parameters cannot go. */
export function literal(text: string, dialect: Dialect): string {
  const escaped = text.replace(/'/g, "''");
  return dialect === "mysql" ? `'${escaped.replace(/\\/g, "\\\\")}'` : `'${escaped}'`;
}

/**
 * A name for an object Liberator creates (trigger, function, index): `prefix_base` when it fits
 * the identifier limit (63 PostgreSQL, 64 MySQL), else cut and suffixed with a hash so two long
 * tables never share one.
 */
export function objectName(prefix: string, base: string, suffix = ""): string {
  const name = `${prefix}_${base}${suffix}`;
  if (name.length <= 63) return name;
  const hash = createHash("sha1").update(name).digest("hex").slice(0, 8);
  return `${name.slice(0, 63 - suffix.length - 9)}_${hash}${suffix}`;
}
