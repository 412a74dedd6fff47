/**
 * Which tables a log-based source captures: "schema.table" patterns with `*` and `?`, include then
 * exclude. The dialect's system schemas are never captured.
 */
function patternRegex(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

export interface TableFilter {
  captures(database: string, table: string): boolean;
  /** Databases (schemas) the patterns can match, or undefined when a pattern's first part has a wildcard. */
  databases(): string[] | undefined;
}

export function patternFilter(include: readonly string[], exclude: readonly string[], system: ReadonlySet<string>): TableFilter {
  const inc = include.map(patternRegex);
  const exc = exclude.map(patternRegex);
  const cache = new Map<string, boolean>();
  return {
    captures(database, table) {
      const name = `${database}.${table}`;
      let hit = cache.get(name);
      if (hit === undefined) {
        hit = !system.has(database.toLowerCase()) && inc.some((r) => r.test(name)) && !exc.some((r) => r.test(name));
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
