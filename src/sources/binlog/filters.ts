/**
 * Which tables the connector captures: "database.table" patterns with `*` and `?`, include then
 * exclude. System schemas are never captured.
 */
import { MYSQL_SYSTEM_DATABASES } from "../../runtime/db/introspect.js";

function patternRegex(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

export interface TableFilter {
  captures(database: string, table: string): boolean;
  /** Databases the patterns can match, or undefined when a pattern's database part has a wildcard. */
  databases(): string[] | undefined;
}

export function tableFilter(include: readonly string[], exclude: readonly string[]): TableFilter {
  const inc = include.map(patternRegex);
  const exc = exclude.map(patternRegex);
  const cache = new Map<string, boolean>();
  return {
    captures(database, table) {
      const name = `${database}.${table}`;
      let hit = cache.get(name);
      if (hit === undefined) {
        hit = !MYSQL_SYSTEM_DATABASES.has(database.toLowerCase()) && inc.some((r) => r.test(name)) && !exc.some((r) => r.test(name));
        cache.set(name, hit);
      }
      return hit;
    },
    databases() {
      const dbs = include.map((p) => p.split(".")[0] ?? "");
      return dbs.some((d) => /[*?]/.test(d)) ? undefined : [...new Set(dbs)];
    },
  };
}

/** "db.table" → [db, table]; the first dot separates them (MySQL names may contain dots only when quoted). */
export function splitTableName(name: string): [string, string] {
  const i = name.indexOf(".");
  return [name.slice(0, i), name.slice(i + 1)];
}
