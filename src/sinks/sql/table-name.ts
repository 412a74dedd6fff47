import type { Origin } from "./changes.js";
import type { TableRef } from "./target.js";
import type { Dialect } from "../../runtime/sql-types/mapping.js";

const PLACEHOLDER = /\{(table|db|topic)\}/g;

/**
 * The target table of a record from the `table` pattern (see config.ts). {table} and {db} come
 * from the envelope's source block, else from the topic's last two segments
 * (`<prefix>.<db>.<table>`, DESIGN.md §3). The query source names a PostgreSQL table with its
 * schema (`public.orders`): a PostgreSQL target keeps it, a MySQL/MariaDB target, where a schema
 * would be a database of that name, gets the table's own name in the connection's database.
 */
export function resolveTable(pattern: string, topic: string, origin: Origin | undefined, dialect: Dialect): TableRef {
  const segments = topic.split(".");
  const source = typeof origin?.table === "string" ? origin.table : segments[segments.length - 1]!;
  const values: Record<string, string> = {
    table: dialect === "mysql" ? source.slice(source.indexOf(".") + 1) : source,
    db: typeof origin?.db === "string" ? origin.db : (segments[segments.length - 2] ?? ""),
    topic: topic.replace(/[^A-Za-z0-9_]/g, "_"),
  };
  return tableRefOf(pattern.replace(PLACEHOLDER, (_, name: string) => values[name]!));
}

/** "name" or "schema.name" (a PostgreSQL schema or a MySQL database). */
export function tableRefOf(name: string): TableRef {
  const dot = name.indexOf(".");
  return dot < 0 ? { name } : { schema: name.slice(0, dot), name: name.slice(dot + 1) };
}
