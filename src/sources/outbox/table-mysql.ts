import type { Connection } from "mysql2/promise";
import type { DatabaseConnection } from "../../runtime/config/fields.js";
import { mysqlConnect } from "../../runtime/db/mysql.js";
import { describeMysqlTable, type TableDescription } from "../../runtime/schema/introspect.js";
import { qualified, quote } from "./sql.js";
import { classifyDbError, mergeById, selectList, toRow, type IdRange, type OutboxRow, type OutboxTable, type TableOptions } from "./table.js";

/** Ids per DELETE: about 120 KB of SQL, far below max_allowed_packet. */
const CLEANUP_CHUNK = 10_000;

/**
 * The outbox on MySQL/MariaDB: one connection reads, another cleans up. The cleanup session runs
 * READ COMMITTED, so its DELETE takes no gap locks that would make the application's INSERTs wait.
 */
export class MysqlOutboxTable implements OutboxTable {
  private readonly from: string;
  private readonly unpublished: string;

  private constructor(
    private readonly reader: Connection,
    private readonly writer: Connection,
    private readonly options: TableOptions,
  ) {
    this.from = `SELECT ${selectList(options, "mysql")} FROM ${qualified(options.name, "mysql")}`;
    this.unpublished = options.cleanup === "mark" ? `${quote(options.columns.publishedAt, "mysql")} IS NULL` : "";
  }

  static async open(conn: DatabaseConnection, options: TableOptions): Promise<MysqlOutboxTable> {
    const reader = await mysqlConnect(conn, options.connector, { rowsAsArray: true });
    try {
      const writer = await mysqlConnect(conn, options.connector);
      for (const c of [reader, writer]) c.on("error", () => undefined);
      await writer.query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
      return new MysqlOutboxTable(reader, writer, options);
    } catch (err) {
      reader.destroy();
      throw err;
    }
  }

  async fetch(ranges: readonly IdRange[], limit: number): Promise<OutboxRow[]> {
    const values: unknown[] = [];
    const id = quote(this.options.columns.id, "mysql");
    const parts = ranges.map((range) => {
      const where: string[] = this.unpublished ? [this.unpublished] : [];
      for (const [op, bound] of [["<", range.below], [">", range.above]] as const) {
        if (bound === undefined) continue;
        where.push(`${id} ${op} ?`);
        values.push(bound);
      }
      values.push(limit);
      return `(${this.from}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY ${id} LIMIT ?)`;
    });
    try {
      const [result] = await this.reader.query(parts.join(" UNION ALL "), values);
      const rows = (result as unknown[][]).map((r) => toRow(r, this.options));
      return ranges.length === 1 ? rows : mergeById(rows, limit);
    } catch (err) {
      throw classifyDbError(err, "reading the outbox", this.options);
    }
  }

  async cleanup(ids: readonly number[]): Promise<void> {
    const table = qualified(this.options.name, "mysql");
    const id = quote(this.options.columns.id, "mysql");
    const sql =
      this.options.cleanup === "delete"
        ? `DELETE FROM ${table} WHERE ${id} IN (?)`
        : `UPDATE ${table} SET ${quote(this.options.columns.publishedAt, "mysql")} = CURRENT_TIMESTAMP(6) WHERE ${id} IN (?) AND ${this.unpublished}`;
    try {
      for (let i = 0; i < ids.length; i += CLEANUP_CHUNK) await this.writer.query(sql, [ids.slice(i, i + CLEANUP_CHUNK)]);
    } catch (err) {
      throw classifyDbError(err, `cleaning up published rows (${this.options.cleanup})`, this.options);
    }
  }

  describe(schema: string, table: string): Promise<TableDescription> {
    return describeMysqlTable(this.writer, schema, table);
  }

  async close(): Promise<void> {
    await Promise.all([this.reader.end().catch(() => this.reader.destroy()), this.writer.end().catch(() => this.writer.destroy())]);
  }
}
