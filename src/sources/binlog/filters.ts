/**
 * Which tables the connector captures: "database.table" patterns with `*` and `?`, include then
 * exclude. System schemas are never captured.
 */
import { MYSQL_SYSTEM_DATABASES } from "../../runtime/db/introspect.js";
import { patternFilter, type TableFilter } from "../../runtime/db/table-filter.js";

export type { TableFilter } from "../../runtime/db/table-filter.js";

export function tableFilter(include: readonly string[], exclude: readonly string[]): TableFilter {
  return patternFilter(include, exclude, MYSQL_SYSTEM_DATABASES);
}

/** "db.table" → [db, table]; the first dot separates them (MySQL names may contain dots only when quoted). */
export function splitTableName(name: string): [string, string] {
  const i = name.indexOf(".");
  return [name.slice(0, i), name.slice(i + 1)];
}
