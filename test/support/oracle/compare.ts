/**
 * The oracle's verdict on one table: every delivered row, decoded by the raw reader (avro.ts),
 * compared column by column with the database's own rendering of the row it holds. Each database
 * says how it renders a column and a delivered value; the bookkeeping is the same for all.
 */
import type { TopicRecord } from "../../harness/index.js";
import type { Raw, RawReader } from "./avro.js";

export interface Renderings<C> {
  /** The server's rendering of the column in `row`, normalized as the comparison wants it. */
  server: (column: C, row: Record<string, unknown>) => unknown;
  /** The same rendering of the delivered value. */
  delivered: (column: C, raw: Raw) => unknown;
  /** Equal renderings; `===` unless given (floats compare with Object.is). */
  same?: (column: C, delivered: unknown, server: unknown) => boolean;
  /** More of the server's side to print with a failure (the text of a float). */
  note?: (column: C, row: Record<string, unknown>) => string;
}

export interface Verdict {
  /** "seed … table.column ddl id … (path): server …, delivered …", one per differing value. */
  failures: string[];
  /** Non-null values found equal, by column. */
  compared: Map<string, number>;
  /** Ids of the rows delivered. */
  ids: Set<number>;
}

export async function compareTable<C extends { name: string; ddl: string }>(options: {
  seed: number;
  table: string;
  columns: readonly C[];
  messages: readonly TopicRecord[];
  raw: RawReader;
  /** The server's rows by id. */
  rows: Map<number, Record<string, unknown>>;
  /** The path a row took, by its id: "snapshot", "stream"… */
  pathOf: (id: number) => string;
  render: Renderings<C>;
}): Promise<Verdict> {
  const { seed, table, columns, render } = options;
  const same = render.same ?? ((_c: C, a: unknown, b: unknown) => a === b);
  const verdict: Verdict = { failures: [], compared: new Map(columns.map((c) => [c.name, 0])), ids: new Set() };
  for (const m of options.messages) {
    const after = await options.raw.after(m.value);
    if (!after) continue;
    const id = Number(after.id!.value);
    const path = options.pathOf(id);
    verdict.ids.add(id);
    const own = options.rows.get(id);
    if (!own) {
      verdict.failures.push(`seed ${seed} ${table} id ${id} (${path}): delivered, but the table has no such row`);
      continue;
    }
    for (const c of columns) {
      const want = render.server(c, own);
      const got = render.delivered(c, after[c.name] ?? null);
      if (!same(c, got, want)) {
        verdict.failures.push(`seed ${seed} ${table}.${c.name} ${c.ddl} id ${id} (${path}): server ${JSON.stringify(want)}${render.note?.(c, own) ?? ""}, delivered ${JSON.stringify(got)}`);
      } else if (want !== null) {
        verdict.compared.set(c.name, verdict.compared.get(c.name)! + 1);
      }
    }
  }
  return verdict;
}
