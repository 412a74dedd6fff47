/**
 * Reading a table in primary-key order, one chunk at a time: `WHERE key > last ORDER BY key
 * LIMIT n`, so each chunk is an index range scan and a restart continues after the last key
 * committed. A table without a primary key is read with LIMIT/OFFSET inside one consistent
 * read (a restart then reads it again from its start). Rows are read through the binary protocol
 * (selectExact), as the query source reads them: the text protocol changes some DOUBLEs.
 */
import type { Connection } from "mysql2/promise";
import type { Json } from "../../runtime/connector.js";
import type { Chunk } from "../../runtime/db/chunked-snapshot.js";
import { quoteMysql } from "../../runtime/db/identifiers.js";
import { selectExact } from "../../runtime/db/mysql.js";
import { decodeKey, encodeKey } from "./position.js";
import type { CapturedTable } from "./schema-history.js";

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

