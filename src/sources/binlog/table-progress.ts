/**
 * What MariaDB tells of a table before its copy starts, for its progress (runtime/db/table-progress.ts):
 * InnoDB's row count guess, and the range of an integer first key column that refines it.
 */
import type { Connection } from "mysql2/promise";
import type { Json, SourceContext } from "../../runtime/connector.js";
import type { StartedTable } from "../../runtime/db/chunked-snapshot.js";
import { quoteMysql } from "../../runtime/db/identifiers.js";
import { estimateMysqlTable } from "../../runtime/db/introspect.js";
import { TableProgress } from "../../runtime/db/table-progress.js";
import type { CapturedTable } from "./schema-history.js";

export async function tableEstimate(conn: Connection, table: CapturedTable): Promise<StartedTable<CapturedTable>["estimate"]> {
  const estimated = await estimateMysqlTable(conn, table.database, table.table);
  return { ...estimated, keyRange: await keyRange(conn, table) };
}

export async function startTableProgress(conn: Connection, ctx: SourceContext, table: CapturedTable, kind: "initial" | "incremental", lastKey: Json[] | null): Promise<TableProgress> {
  return new TableProgress(ctx, table.name, kind, await tableEstimate(conn, table), lastKey);
}

/** MIN and MAX of the first key column (two index dives) when it holds integers; undefined otherwise. */
async function keyRange(conn: Connection, t: CapturedTable): Promise<{ min: number; max: number } | undefined> {
  const first = t.layout.primaryKey[0];
  const type = t.layout.columns.find((c) => c.name === first)?.sqlType ?? "";
  if (first === undefined || !/^(tiny|small|medium|big)?int\b/.test(type)) return undefined;
  const column = quoteMysql(first);
  const [result] = await conn.query({ sql: `SELECT MIN(${column}) AS lo, MAX(${column}) AS hi FROM ${quoteMysql(t.database)}.${quoteMysql(t.table)}`, supportBigNumbers: true, bigNumberStrings: true });
  const row = (result as { lo: unknown; hi: unknown }[])[0];
  // an empty table has no range
  if (row?.lo === null || row?.lo === undefined || row.hi === null) return undefined;
  return { min: Number(row.lo), max: Number(row.hi) };
}
