import type pg from "pg";
import type { DatabaseConnection } from "../../runtime/config/fields.js";
import { pgConnect } from "../../runtime/db/postgres.js";
import { describePgTable, type TableDescription } from "../../runtime/schema/introspect.js";
import { PG_READ_OPTIONS } from "../../runtime/schema/values.js";
import { qualified, quote } from "./sql.js";
import { classifyDbError, mergeById, selectList, toRow, type IdRange, type OutboxRow, type OutboxTable, type TableOptions } from "./table.js";

/**
 * The outbox on PostgreSQL: one connection reads (every value as the server's text), another
 * cleans up, so the read of the next batch never waits behind the previous batch's DELETE.
 */
export class PostgresOutboxTable implements OutboxTable {
  private readonly from: string;
  private readonly unpublished: string;

  private constructor(
    private readonly reader: pg.Client,
    private readonly writer: pg.Client,
    private readonly options: TableOptions,
  ) {
    this.from = `SELECT ${selectList(options, "postgres")} FROM ${qualified(options.name, "postgres")}`;
    this.unpublished = options.cleanup === "mark" ? `${quote(options.columns.publishedAt, "postgres")} IS NULL` : "";
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

  async fetch(ranges: readonly IdRange[], limit: number): Promise<OutboxRow[]> {
    const values: unknown[] = [limit];
    const parts = ranges.map((range) => {
      const where: string[] = this.unpublished ? [this.unpublished] : [];
      const id = quote(this.options.columns.id, "postgres");
      if (range.below !== undefined) where.push(`${id} < $${values.push(range.below)}`);
      if (range.above !== undefined) where.push(`${id} > $${values.push(range.above)}`);
      return `(${this.from}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY ${id} LIMIT $1)`;
    });
    try {
      // one statement per shape, prepared once: the plan is an index range scan on the key
      const shape = ranges.map((r) => `${r.below === undefined ? "" : "b"}${r.above === undefined ? "" : "a"}`).join("_");
      const result = await this.reader.query({ name: `liberator_outbox_${shape || "all"}`, text: parts.join(" UNION ALL "), values, rowMode: "array" });
      const rows = (result.rows as unknown[][]).map((r) => toRow(r, this.options));
      return ranges.length === 1 ? rows : mergeById(rows, limit);
    } catch (err) {
      throw classifyDbError(err, "reading the outbox", this.options);
    }
  }

  async cleanup(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    const table = qualified(this.options.name, "postgres");
    const id = quote(this.options.columns.id, "postgres");
    const sql =
      this.options.cleanup === "delete"
        ? `DELETE FROM ${table} WHERE ${id} = ANY($1::bigint[])`
        : `UPDATE ${table} SET ${quote(this.options.columns.publishedAt, "postgres")} = now() WHERE ${id} = ANY($1::bigint[]) AND ${this.unpublished}`;
    try {
      await this.writer.query(sql, [ids]);
    } catch (err) {
      throw classifyDbError(err, `cleaning up published rows (${this.options.cleanup})`, this.options);
    }
  }

  describe(schema: string, table: string): Promise<TableDescription> {
    return describePgTable(this.reader, schema, table);
  }

  async close(): Promise<void> {
    await Promise.all([this.reader.end().catch(() => undefined), this.writer.end().catch(() => undefined)]);
  }
}
