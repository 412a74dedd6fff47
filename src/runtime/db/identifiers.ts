/**
 * SQL names and literals, one spelling per dialect: every statement Liberator builds quotes its
 * identifiers here, so a column named `order` or `a"b` means the same to each connector.
 */
import { ConfigError } from "../errors.js";
import type { Dialect } from "../sql-types/mapping.js";

/** A MySQL/MariaDB identifier: in backquotes, a backquote inside doubled. */
export const quoteMysql = (name: string): string => `\`${name.replace(/`/g, "``")}\``;

/** A PostgreSQL identifier: in double quotes, a double quote inside doubled. */
export const quotePg = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export const quoteIdentifier = (name: string, dialect: Dialect): string => (dialect === "postgres" ? quotePg(name) : quoteMysql(name));

/** A table as SQL names it: PostgreSQL schema or MySQL database, and the table. */
export interface TableName {
  /** PostgreSQL: the schema (public by default); MySQL: the database (the connection's by default). */
  schema: string;
  table: string;
}

export const qualifiedName = (name: TableName, dialect: Dialect): string => `${quoteIdentifier(name.schema, dialect)}.${quoteIdentifier(name.table, dialect)}`;

/** A table with its schema, or alone where the session's own (PostgreSQL's search_path, MySQL's database) applies. */
export const quoteTable = (schema: string | undefined, table: string, dialect: Dialect): string =>
  schema ? qualifiedName({ schema, table }, dialect) : quoteIdentifier(table, dialect);

/** A string literal; only for DDL, where parameters cannot go. */
export function sqlLiteral(text: string, dialect: Dialect): string {
  const escaped = text.replace(/'/g, "''");
  return dialect === "mysql" ? `'${escaped.replace(/\\/g, "\\\\")}'` : `'${escaped}'`;
}

/** `t`, `s.t`, or quoted parts (`"My Schema"."t"`, `` `db`.`t` ``); `what` names the setting in the error. */
export function parseTableName(text: string, dialect: Dialect, defaultSchema: string | undefined, what = "table"): TableName {
  const parts = splitName(text);
  if (parts.length === 1 && defaultSchema !== undefined) return { schema: defaultSchema, table: parts[0]! };
  if (parts.length === 2) return { schema: parts[0]!, table: parts[1]! };
  const example = dialect === "postgres" ? "public.outbox" : "shop.outbox";
  throw new ConfigError([`${what} "${text}" must be ${parts.length === 1 ? "qualified" : "one or two names"}, e.g. ${example}`]);
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
