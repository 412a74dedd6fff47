import { createHash } from "node:crypto";
import { parseTableName, type TableName } from "../../runtime/db/identifiers.js";
import type { OutboxConfig } from "./config.js";

/** The configured outbox table (PostgreSQL: schema public by default; MySQL: connection.database). */
export function outboxTableName(config: Pick<OutboxConfig, "table" | "dialect" | "connection">): TableName {
  return parseTableName(config.table, config.dialect, config.dialect === "postgres" ? "public" : config.connection.database, "table");
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
