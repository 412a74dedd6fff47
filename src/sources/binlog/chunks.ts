/**
 * Reading a table in primary-key order, one chunk at a time: `WHERE key > last ORDER BY key
 * LIMIT n`, so each chunk is an index range scan and a restart continues after the last key
 * committed. A table without a primary key is read with LIMIT/OFFSET inside one consistent
 * read (a restart then reads it again from its start). Rows are read through the binary protocol
 * (selectExact), as the query source reads them: the text protocol changes some DOUBLEs.
 */
import type { Connection } from "mysql2/promise";
import type { Json } from "../../runtime/connector.js";
import { selectExact } from "../../runtime/db/mysql.js";
import { rowsWithin, sampleRowBytes } from "../../runtime/db/row-bytes.js";
import { decodeKey, encodeKey } from "./position.js";
import type { CapturedTable } from "./schema-history.js";
import { quoteMysql } from "../../runtime/db/identifiers.js";


export interface Chunk {
  rows: Record<string, unknown>[];
  /** The key of the last row (or, without a primary key, the rows read so far as [n]); null when empty. */
  lastKey: Json[] | null;
  /** Fewer rows than asked: the table has no more. */
  last: boolean;
}

/** The key predicate for composite keys: (a > ?) OR (a = ? AND b > ?) … — indexable on every server. */
function after(key: readonly string[]): string {
  return key
    .map((_, i) => `(${[...key.slice(0, i).map((k) => `${quoteMysql(k)} = ?`), `${quoteMysql(key[i]!)} > ?`].join(" AND ")})`)
    .join(" OR ");
}

function afterParams(values: readonly unknown[]): unknown[] {
  return values.flatMap((_, i) => values.slice(0, i + 1));
}

export async function readChunk(conn: Connection, t: CapturedTable, lastKey: Json[] | null, size: number): Promise<Chunk> {
  const key = t.layout.primaryKey;
  const select = t.stream.columns.map((c) => `${c.select(quoteMysql(c.column))} AS ${quoteMysql(c.column)}`);
  const from = `${quoteMysql(t.database)}.${quoteMysql(t.table)}`;
  let sql: string;
  let params: unknown[] = [];
  if (key.length > 0) {
    const where = lastKey ? ` WHERE ${after(key)}` : "";
    params = lastKey ? afterParams(decodeKey(lastKey)) : [];
    sql = `SELECT ${select.join(", ")} FROM ${from}${where} ORDER BY ${key.map(quoteMysql).join(", ")} LIMIT ${size}`;
  } else {
    const offset = lastKey ? Number(lastKey[0]) : 0;
    sql = `SELECT ${select.join(", ")} FROM ${from} LIMIT ${size} OFFSET ${offset}`;
  }
  const { rows } = await selectExact(conn, sql, params);
  const lastRow = rows[rows.length - 1];
  let next: Json[] | null = lastKey;
  if (lastRow) {
    // the driver's values of the key (a column policy never replaces a key column's driver value)
    next = key.length > 0 ? encodeKey(key.map((k) => lastRow[k])) : [(lastKey ? Number(lastKey[0]) : 0) + rows.length];
  }
  return { rows, lastKey: next, last: rows.length < size };
}

/** A table's first chunk at most: its rows' width is known only from the server's estimate, which may be missing or stale. */
const PROBE_ROWS = 100;

/**
 * Rows per chunk: `snapshot.chunkSize`, or fewer when the table's rows are wide, so that a chunk
 * (one batch: the pipeline holds two, one read ahead while the other commits) stays near
 * `batch.maxBytes` (10,000 rows of 4 KB would be 40 MB each; a power of two when the bytes decide,
 * so the prepared statement of a chunk stays the same). A table's first chunk is a probe of
 * at most PROBE_ROWS, fewer when the server's average row length says so; each later one goes by
 * the rows of the chunk before it.
 */
export class ChunkSize {
  private measured = false;

  constructor(
    private readonly chunkSize: number,
    private readonly maxBytes: number,
    private rowBytes: number,
  ) {}

  rows(): number {
    return rowsWithin(Math.min(this.chunkSize, this.measured ? Infinity : PROBE_ROWS), this.maxBytes, this.rowBytes);
  }

  read(rows: readonly Record<string, unknown>[]): void {
    if (rows.length === 0) return;
    this.rowBytes = sampleRowBytes(rows);
    this.measured = true;
  }
}
