import type { Random } from "./random.js";

/** A column as the row builder needs it: its edge literals and a generator of more. */
export interface LiteralColumn {
  name: string;
  edges: readonly string[];
  generate(r: Random): string;
}

export interface LiteralRow {
  id: number;
  /** SQL literals in column order, "NULL" for a null. */
  values: string[];
}

/** Share of generated values written as NULL. */
const NULLS = 0.02;

/**
 * Rows that give every column its edges first, then one row of NULLs, then generated values until
 * each column holds at least `generated` of them (not counting NULLs). Ids count up from `firstId`.
 */
export function literalRows(r: Random, columns: readonly LiteralColumn[], firstId: number, generated = 2000): LiteralRow[] {
  const rows: LiteralRow[] = [];
  const edgeRows = Math.max(...columns.map((c) => c.edges.length));
  for (let i = 0; i < edgeRows; i++) rows.push({ id: firstId + rows.length, values: columns.map((c) => c.edges[i % c.edges.length]!) });
  rows.push({ id: firstId + rows.length, values: columns.map(() => "NULL") });
  const counts = columns.map(() => 0);
  while (counts.some((n) => n < generated)) {
    rows.push({
      id: firstId + rows.length,
      values: columns.map((c, i) => {
        if (r.chance(NULLS)) return "NULL";
        counts[i]!++;
        return c.generate(r);
      }),
    });
  }
  return rows;
}

/** Multi-row INSERTs of at most `batch` rows each. */
export function insertStatements(table: string, columns: readonly { name: string }[], rows: readonly LiteralRow[], quote: (name: string) => string, batch = 200): string[] {
  const head = `INSERT INTO ${quote(table)} (${["id", ...columns.map((c) => c.name)].map(quote).join(", ")}) VALUES `;
  const out: string[] = [];
  for (let i = 0; i < rows.length; i += batch) {
    out.push(head + rows.slice(i, i + batch).map((row) => `(${[String(row.id), ...row.values].join(", ")})`).join(",\n"));
  }
  return out;
}
