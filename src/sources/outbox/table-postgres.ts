import type pg from "pg";
import type { DatabaseConnection } from "../../runtime/config/fields.js";
import { pgConnect } from "../../runtime/db/postgres.js";
import { describePgTable, type TableDescription } from "../../runtime/db/introspect.js";
import { PG_READ_OPTIONS } from "../../runtime/db/postgres.js";
import { classifyOutboxError, outboxStatements, toRow, type OutboxRow, type OutboxTable, type TableOptions } from "./table.js";

/**
 * The outbox on PostgreSQL: one connection reads (every value as the server's text), another
 * cleans up, so the read of the next batch never waits behind the previous batch's DELETE. Reads
 * are named prepared statements: planned once, an index range scan on the key.
 */
export class PostgresOutboxTable implements OutboxTable {
  private readonly sql: ReturnType<typeof outboxStatements>;

  private constructor(
    private readonly reader: pg.Client,
    private readonly writer: pg.Client,
    private readonly options: TableOptions,
  ) {
    this.sql = outboxStatements(options, "postgres");
  }

  static async open(conn: DatabaseConnection, options: TableOptions): Promise<PostgresOutboxTable> {
    const reader = await pgConnect(conn, options.connector, PG_READ_OPTIONS);
    const writer = await pgConnect(conn, options.connector).catch(async (err: unknown) => {
      await reader.end().catch(() => undefined);
      throw err;
    });
    // a dropped connection is reported by the next query; without a listener it would crash the process
    for (const c of [reader, writer]) c.on("error", () => undefined);
    return new PostgresOutboxTable(reader, writer, options);
  }

  fetch(limit: number, above?: number): Promise<OutboxRow[]> {
    return above === undefined ? this.read("first", [limit]) : this.read("above", [above, limit]);
  }

  async firstIds(limit: number): Promise<number[]> {
    try {
      const result = await this.reader.query({ name: "liberator_outbox_first_ids", text: this.sql.firstIds, values: [limit], rowMode: "array" });
      return (result.rows as unknown[][]).map((r) => Number(r[0]));
    } catch (err) {
      throw classifyOutboxError(err, "reading the outbox", this.options);
    }
  }

  rows(ids: readonly number[]): Promise<OutboxRow[]> {
    return this.read("rows", [ids]);
  }

  async cleanup(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      await this.writer.query({ name: "liberator_outbox_cleanup", text: this.sql.cleanup, values: [ids] });
    } catch (err) {
      throw classifyOutboxError(err, `cleaning up published rows (${this.options.cleanup})`, this.options);
    }
  }

  describe(schema: string, table: string): Promise<TableDescription> {
    return describePgTable(this.reader, schema, table);
  }

  async close(): Promise<void> {
    await Promise.all([this.reader.end().catch(() => undefined), this.writer.end().catch(() => undefined)]);
  }

  private async read(statement: "first" | "above" | "rows", values: unknown[]): Promise<OutboxRow[]> {
    try {
      const result = await this.reader.query({ name: `liberator_outbox_${statement}`, text: this.sql[statement], values, rowMode: "array" });
      return (result.rows as unknown[][]).map((r) => toRow(r, this.options));
    } catch (err) {
      throw classifyOutboxError(err, "reading the outbox", this.options);
    }
  }
}
