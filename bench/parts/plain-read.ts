/** The plain read: the same rows read in the same chunks by the same driver, nothing done with them. */
import mysql, { type Connection } from "mysql2/promise";
import { MYSQL_READ_OPTIONS } from "../../src/runtime/db/mysql.js";
import type { HarnessInfo } from "../../test/harness/start.js";
import { timed, type Ceiling } from "./timed.js";

/** A connection that reads values as the sources do (exact decimals and dates as text, UTC). */
export function mysqlReader(server: HarnessInfo["mariadb"], database: string): Promise<Connection> {
  return mysql.createConnection({ ...server, database, ...MYSQL_READ_OPTIONS, timezone: "Z" });
}

/** The plain chunked read of a MySQL/MariaDB table by its integer key `id`, with the source's protocol. */
export async function plainMysqlRead(conn: Connection, table: string, chunk: number, protocol: "query" | "execute"): Promise<Ceiling & { rows: number }> {
  let rows = 0;
  const ceiling = await timed(1, async () => {
    let last = -1;
    for (;;) {
      const sql = `SELECT * FROM ${table} WHERE id > ? ORDER BY id LIMIT ${chunk}`;
      const [result] = protocol === "execute" ? await conn.execute(sql, [last]) : await conn.query(sql, [last]);
      const page = result as { id: number }[];
      rows += page.length;
      if (page.length < chunk) return;
      last = page[page.length - 1]!.id;
    }
  });
  return { rows, rowsPerS: ceiling.rowsPerS * rows, cpuUsPerRow: ceiling.cpuUsPerRow / rows, seconds: ceiling.seconds };
}
