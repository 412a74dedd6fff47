/**
 * MySQL/MariaDB as a sink target. Rows go in prepared multi-row statements (FACTS-sql.md: the
 * fastest method on one connection, 184–213k rows/s), `INSERT … ON DUPLICATE KEY UPDATE` for
 * upserts. Statements hold a power-of-two number of rows, so a connection prepares a handful of
 * texts per table instead of one per batch size.
 */
import type { Connection } from "mysql2/promise";
import type { DatabaseConnection } from "../../runtime/config/fields.js";
import { mysqlConnect } from "../../runtime/db/mysql.js";
import { ConnectionError, type LiberatorError } from "../../runtime/errors.js";
import { describeMysqlTable, mysqlIndexes } from "../../runtime/db/introspect.js";
import type { AvroField } from "../../runtime/sql-types/mapping.js";
import { avroToSqlType } from "../../runtime/sql-types/to-sql.js";
import { rowRanges } from "./chunks.js";
import { classifySinkError, inTransaction, type KeySet, type Row, type RowSet, type SqlTarget, type TableRef, type TargetTable } from "./target.js";
import { quoteMysql, quoteTable } from "../../runtime/db/identifiers.js";
import { classifyMysqlError } from "../../runtime/db/errors.js";

/**
 * Strict: a value the column cannot hold is an error, never a silent truncation or clipping.
 * NO_AUTO_VALUE_ON_ZERO: a row whose AUTO_INCREMENT column is 0 keeps 0.
 */
const SESSION_SQL_MODE = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'";

/** A prepared statement takes at most 65,535 parameters. */
const MAX_PARAMS = 65_535;
const MAX_ROWS = 4096;


export class MysqlTarget implements SqlTarget {
  readonly dialect = "mysql" as const;
  readonly where: string;
  private connection: Connection | undefined;
  /** Transactions in flight on the connection. */
  private transactions = 0;
  private readonly statements = new Map<string, string>();

  constructor(
    private readonly conn: DatabaseConnection,
    private readonly connector: string,
    private readonly maxStatementBytes: number,
  ) {
    this.where = `MySQL/MariaDB at ${conn.host}:${conn.port}/${conn.database ?? ""}`;
  }

  async connect(): Promise<void> {
    const connection = await mysqlConnect(this.conn, this.connector);
    // a fatal error with no query pending is emitted: without a listener it would end the process
    connection.on("error", () => undefined);
    await connection.query(SESSION_SQL_MODE);
    this.connection = connection;
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    // mysql2 queues QUIT behind the statement running: only a cut connection ends a transaction now
    if (connection && this.transactions > 0) connection.destroy();
    else if (connection) await connection.end().catch(() => connection.destroy());
  }

  async query(sql: string, params: unknown[] = []): Promise<Row[]> {
    const [rows] = await this.open().query(sql, params);
    return Array.isArray(rows) ? (rows as Row[]) : [];
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const connection = this.open();
    this.transactions++;
    try {
      return await inTransaction((sql) => connection.query(sql), "START TRANSACTION", fn);
    } finally {
      this.transactions--;
    }
  }

  async describe(ref: TableRef): Promise<TargetTable | undefined> {
    const schema = ref.schema ?? this.conn.database!;
    const table = await describeMysqlTable(this.open(), schema, ref.name);
    if (table.columns.length === 0) return undefined;
    const uniqueKeys = (await mysqlIndexes(this.open(), schema, ref.name)).filter((i) => i.unique).map((i) => i.columns);
    return { ref: { schema, name: ref.name }, ...table, uniqueKeys };
  }

  quoteTable(ref: TableRef): string {
    return quoteTable(ref.schema, ref.name, this.dialect);
  }

  placeholders(sql: string): string {
    return sql;
  }

  /** A key column cannot be TEXT or BLOB in InnoDB: the longest VARCHAR/VARBINARY an index holds stands in. */
  columnType(field: AvroField, isKey: boolean): string {
    const type = avroToSqlType(field, "mysql");
    if (!isKey) return type;
    return type.replace(/^(TINY|MEDIUM|LONG)?TEXT\b/i, "VARCHAR(768)").replace(/^(TINY|MEDIUM|LONG)?BLOB\b/i, "VARBINARY(3072)");
  }

  createTableSql(ref: TableRef, columns: { name: string; type: string }[], key: readonly string[]): string {
    const defs = columns.map((c) => `${quoteMysql(c.name)} ${c.type}`);
    if (key.length > 0) defs.push(`PRIMARY KEY (${key.map(quoteMysql).join(", ")})`);
    // binary collation: text compares and sorts exactly, so "a" and "A" are two keys as at the source
    return `CREATE TABLE ${this.quoteTable(ref)} (${defs.join(", ")}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
  }

  addColumnSql(ref: TableRef, column: string, type: string): string {
    return `ALTER TABLE ${this.quoteTable(ref)} ADD COLUMN ${quoteMysql(column)} ${type}`;
  }

  alterColumnTypeSql(ref: TableRef, column: string, type: string): string {
    return `ALTER TABLE ${this.quoteTable(ref)} MODIFY COLUMN ${quoteMysql(column)} ${type}`;
  }

  addPrimaryKeySql(ref: TableRef, key: readonly string[]): string {
    return `ALTER TABLE ${this.quoteTable(ref)} ADD PRIMARY KEY (${key.map(quoteMysql).join(", ")})`;
  }

  async insert(set: RowSet, conflict: "error" | "update"): Promise<void> {
    const { columns, keyColumns } = set;
    const row = `(${columns.map(() => "?").join(", ")})`;
    const head = `INSERT INTO ${this.quoteTable(set.table.ref)} (${columns.map(quoteMysql).join(", ")}) VALUES `;
    let tail = "";
    if (conflict === "update") {
      const others = columns.filter((c) => !keyColumns.includes(c));
      // VALUES(c) is the inserted value in both MySQL and MariaDB (MySQL 8.0.20+ warns, still supports it)
      tail = ` ON DUPLICATE KEY UPDATE ${(others.length > 0 ? others : keyColumns.slice(0, 1)).map((c) => `${quoteMysql(c)} = VALUES(${quoteMysql(c)})`).join(", ")}`;
    }
    await this.runRows(`${head}|${tail}`, (n) => `${head}${Array.from({ length: n }, () => row).join(", ")}${tail}`, set.params, columns.length);
  }

  async update(set: RowSet): Promise<void> {
    const { columns, keyColumns } = set;
    const others = columns.filter((c) => !keyColumns.includes(c));
    if (others.length === 0) return;
    const sql =
      `UPDATE ${this.quoteTable(set.table.ref)} SET ${others.map((c) => `${quoteMysql(c)} = ?`).join(", ")} ` +
      `WHERE ${keyColumns.map((c) => `${quoteMysql(c)} = ?`).join(" AND ")}`;
    const at = [...others, ...keyColumns].map((c) => columns.indexOf(c));
    const width = columns.length;
    const connection = this.open();
    for (let r = 0; r < set.params.length; r += width) await connection.execute(sql, at.map((i) => set.params[r + i]) as never[]);
  }

  async delete(set: KeySet): Promise<void> {
    const { keyColumns } = set;
    const single = keyColumns.length === 1;
    const head = `DELETE FROM ${this.quoteTable(set.table.ref)} WHERE ${single ? quoteMysql(keyColumns[0]!) : `(${keyColumns.map(quoteMysql).join(", ")})`} IN (`;
    const one = single ? "?" : `(${keyColumns.map(() => "?").join(", ")})`;
    await this.runRows(head, (n) => `${head}${Array.from({ length: n }, () => one).join(", ")})`, set.params, keyColumns.length);
  }

  async deleteAll(table: TargetTable): Promise<void> {
    await this.open().query(`DELETE FROM ${this.quoteTable(table.ref)}`);
  }

  classify(err: unknown, what: string): LiberatorError {
    return classifySinkError(err, classifyMysqlError(err), `${what}: ${(err as Error).message}`, this.where, this.connector);
  }


  private open(): Connection {
    if (!this.connection) throw new ConnectionError(`${this.where}: not connected`, { connector: this.connector });
    return this.connection;
  }

  /**
   * Executes `sql(n)` over the rows, n parameters-rows at a time: full statements of the largest
   * power of two that fits, then the rest in falling powers of two.
   */
  private async runRows(cacheKey: string, sql: (n: number) => string, params: unknown[], width: number): Promise<void> {
    const connection = this.open();
    let limit = 1;
    while (limit * 2 <= Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / Math.max(width, 1)))) limit *= 2;
    for (const [start, end] of rowRanges(params, width, limit, this.maxStatementBytes)) {
      for (let r = start; r < end; ) {
        let n = limit;
        while (n > end - r) n /= 2;
        const values = r === 0 && n * width === params.length ? params : params.slice(r * width, (r + n) * width);
        await connection.execute(this.statement(cacheKey, n, sql), values as never[]);
        r += n;
      }
    }
  }

  private statement(key: string, n: number, sql: (n: number) => string): string {
    const id = `${n}|${key}`;
    let text = this.statements.get(id);
    if (!text) this.statements.set(id, (text = sql(n)));
    return text;
  }
}
