import type { Connection } from "mysql2/promise";
import type { DatabaseConnection } from "../../runtime/config/fields.js";
import { mysqlConnect } from "../../runtime/db/mysql.js";
import { describeMysqlTable, type TableDescription } from "../../runtime/db/introspect.js";
import { classifyOutboxError, outboxStatements, toRow, type OutboxRow, type OutboxTable, type TableOptions } from "./table.js";

/** Ids per statement: about 120 KB of SQL, far below max_allowed_packet. */
const IDS_PER_STATEMENT = 10_000;

/**
 * The outbox on MySQL/MariaDB: one connection reads, another cleans up. The cleanup session runs
 * READ COMMITTED, so its DELETE takes no gap locks that would make the application's INSERTs wait.
 */
export class MysqlOutboxTable implements OutboxTable {
  private readonly sql: ReturnType<typeof outboxStatements>;

  private constructor(
    private readonly reader: Connection,
    private readonly writer: Connection,
    private readonly options: TableOptions,
  ) {
    this.sql = outboxStatements(options, "mysql");
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

  async fetch(limit: number, above?: number): Promise<OutboxRow[]> {
    const rows = await this.query(above === undefined ? this.sql.first : this.sql.above, above === undefined ? [limit] : [above, limit]);
    return rows.map((r) => toRow(r, this.options));
  }

  async firstIds(limit: number): Promise<number[]> {
    return (await this.query(this.sql.firstIds, [limit])).map((r) => Number(r[0]));
  }

  async rows(ids: readonly number[]): Promise<OutboxRow[]> {
    const out: OutboxRow[] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
      for (const r of await this.query(this.sql.rows, [ids.slice(i, i + IDS_PER_STATEMENT)])) out.push(toRow(r, this.options));
    }
    return out;
  }

  async cleanup(ids: readonly number[]): Promise<void> {
    try {
      for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) await this.writer.query(this.sql.cleanup, [ids.slice(i, i + IDS_PER_STATEMENT)]);
    } catch (err) {
      throw classifyOutboxError(err, `cleaning up published rows (${this.options.cleanup})`, this.options);
    }
  }

  describe(schema: string, table: string): Promise<TableDescription> {
    return describeMysqlTable(this.writer, schema, table);
  }

  async close(): Promise<void> {
    await Promise.all([this.reader.end().catch(() => this.reader.destroy()), this.writer.end().catch(() => this.writer.destroy())]);
  }

  private async query(sql: string, values: unknown[]): Promise<unknown[][]> {
    try {
      return (await this.reader.query(sql, values))[0] as unknown[][];
    } catch (err) {
      throw classifyOutboxError(err, "reading the outbox", this.options);
    }
  }
}
