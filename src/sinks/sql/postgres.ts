/**
 * PostgreSQL as a sink target. Rows travel as one array parameter per column through
 * `unnest(...)`: the statement text is the same for every batch (prepared once per connection),
 * where a multi-row VALUES list would make the server parse and plan thousands of parameters
 * per batch (FACTS-sql.md: about 50k rows/s against 116k for unnest).
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import type { DatabaseConnection } from "../../runtime/config/fields.js";
import { pgConnect } from "../../runtime/db/postgres.js";
import { ConnectionError, ErrorCode, PreconditionError, type LiberatorError } from "../../runtime/errors.js";
import { describePgTable, pgIndexes } from "../../runtime/db/introspect.js";
import { avroToSqlType } from "../../runtime/sql-types/to-sql.js";
import { PG_READ_OPTIONS } from "../../runtime/db/postgres.js";
import type { AvroField } from "../../runtime/sql-types/mapping.js";
import { rowRanges } from "./chunks.js";
import { classifySinkError, inTransaction, type KeySet, type Row, type RowSet, type SqlTarget, type TableRef, type TargetTable } from "./target.js";
import { quotePg, quoteTable } from "../../runtime/db/identifiers.js";
import { classifyPostgresError } from "../../runtime/db/errors.js";

/** Rows per statement: one array element per row and column, so only bytes really bound it. */
const MAX_ROWS = 50_000;
/*
 * A task frozen inside its write transaction (SIGSTOP, a VM paused) holds its partitions' offsets
 * rows, so the claim of the task that took them over waited until it woke: the partitions stood
 * still however long the freeze. The server ends such a session instead; our own transactions are
 * never idle between statements for more than a round trip, and a session ended this way is a
 * connection failure, retried.
 */
const IDLE_IN_WRITE_MS = 15_000;


export class PostgresTarget implements SqlTarget {
  readonly dialect = "postgres" as const;
  readonly where: string;
  private client: pg.Client | undefined;
  private defaultSchema = "public";
  /** Statement names by text: prepared once per connection. */
  private readonly names = new Map<string, string>();
  private readonly literal = new ArrayLiteral();

  constructor(
    private readonly conn: DatabaseConnection,
    private readonly connector: string,
    private readonly maxStatementBytes: number,
  ) {
    this.where = `PostgreSQL at ${conn.host}:${conn.port}/${conn.database ?? "postgres"}`;
  }

  async connect(): Promise<void> {
    const client = await pgConnect(this.conn, this.connector, { ...PG_READ_OPTIONS, idle_in_transaction_session_timeout: IDLE_IN_WRITE_MS });
    // an idle client's socket error is emitted, not thrown: without a listener it would end the process
    client.on("error", () => undefined);
    this.client = client;
    const [row] = await this.query("SELECT current_schema() AS s");
    if (typeof row?.s === "string") this.defaultSchema = row.s;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  async query(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.connection().query<Row>(sql, params)).rows;
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const client = this.connection();
    return inTransaction((sql) => client.query(sql), "BEGIN", fn);
  }

  async describe(ref: TableRef): Promise<TargetTable | undefined> {
    const schema = ref.schema ?? this.defaultSchema;
    const client = this.connection();
    const table = await describePgTable(client, schema, ref.name);
    if (table.columns.length === 0) return undefined;
    const uniqueKeys = (await pgIndexes(client, schema, ref.name)).filter((i) => i.unique).map((i) => i.columns);
    return { ref: { schema, name: ref.name }, ...table, uniqueKeys };
  }

  quoteTable(ref: TableRef): string {
    return quoteTable(ref.schema, ref.name, this.dialect);
  }

  placeholders(sql: string): string {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  }

  columnType(field: AvroField): string {
    return avroToSqlType(field, "postgres");
  }

  createTableSql(ref: TableRef, columns: { name: string; type: string }[], key: readonly string[]): string {
    const defs = columns.map((c) => `${quotePg(c.name)} ${c.type}`);
    if (key.length > 0) defs.push(`PRIMARY KEY (${key.map(quotePg).join(", ")})`);
    return `CREATE TABLE ${this.quoteTable(ref)} (${defs.join(", ")})`;
  }

  addColumnSql(ref: TableRef, column: string, type: string): string {
    return `ALTER TABLE ${this.quoteTable(ref)} ADD COLUMN ${quotePg(column)} ${type}`;
  }

  alterColumnTypeSql(ref: TableRef, column: string, type: string): string {
    return `ALTER TABLE ${this.quoteTable(ref)} ALTER COLUMN ${quotePg(column)} TYPE ${type}`;
  }

  addPrimaryKeySql(ref: TableRef, key: readonly string[]): string {
    return `ALTER TABLE ${this.quoteTable(ref)} ADD PRIMARY KEY (${key.map(quotePg).join(", ")})`;
  }

  async insert(set: RowSet, conflict: "error" | "update"): Promise<void> {
    const { table, columns, keyColumns } = set;
    const source = this.unnest(table, columns);
    let sql = `INSERT INTO ${this.quoteTable(table.ref)} (${columns.map(quotePg).join(", ")}) SELECT ${source.select} FROM ${source.from}`;
    if (conflict === "update") {
      const others = columns.filter((c) => !keyColumns.includes(c));
      const action = others.length === 0 ? "NOTHING" : `UPDATE SET ${others.map((c) => `${quotePg(c)} = EXCLUDED.${quotePg(c)}`).join(", ")}`;
      sql += ` ON CONFLICT (${keyColumns.map(quotePg).join(", ")}) DO ${action}`;
    }
    await this.run(sql, set.params, columns.length);
  }

  async update(set: RowSet): Promise<void> {
    const { table, columns, keyColumns } = set;
    const others = columns.filter((c) => !keyColumns.includes(c));
    if (others.length === 0) return;
    const source = this.unnest(table, columns);
    const alias = (c: string) => source.alias[columns.indexOf(c)]!;
    const sql =
      `UPDATE ${this.quoteTable(table.ref)} AS t SET ${others.map((c) => `${quotePg(c)} = ${alias(c)}`).join(", ")} ` +
      `FROM ${source.from} WHERE ${keyColumns.map((c) => `t.${quotePg(c)} = ${alias(c)}`).join(" AND ")}`;
    await this.run(sql, set.params, columns.length);
  }

  async delete(set: KeySet): Promise<void> {
    const source = this.unnest(set.table, set.keyColumns);
    const sql = `DELETE FROM ${this.quoteTable(set.table.ref)} AS t USING ${source.from} WHERE ${set.keyColumns.map((c, i) => `t.${quotePg(c)} = ${source.alias[i]!}`).join(" AND ")}`;
    await this.run(sql, set.params, set.keyColumns.length);
  }

  async deleteAll(table: TargetTable): Promise<void> {
    await this.connection().query(`DELETE FROM ${this.quoteTable(table.ref)}`);
  }

  classify(err: unknown, what: string): LiberatorError {
    const e = err as Error & { detail?: string };
    return classifySinkError(err, classifyPostgresError(err), `${what}: ${e.message}${e.detail ? ` (${e.detail})` : ""}`, this.where, this.connector);
  }


  private connection(): pg.Client {
    if (!this.client) throw new ConnectionError(`${this.where}: not connected`, { connector: this.connector });
    return this.client;
  }

  /**
   * `unnest($1::type[], …) AS u(c0, …)` over the columns' own types without their modifiers (a
   * cast to varchar(n) or bit(n) would cut a value silently; the assignment to the column checks
   * it instead). Array columns travel as text and are cast per row.
   */
  private unnest(table: TargetTable, columns: readonly string[]): { from: string; select: string; alias: string[] } {
    const types = columns.map((c) => {
      const column = table.columns.find((x) => x.name === c);
      if (!column) throw new PreconditionError(ErrorCode.SINK_TABLE_MISMATCH, `table ${this.quoteTable(table.ref)} has no column "${c}"`, { connector: this.connector });
      return castType(column.sqlType);
    });
    const params = types.map((t, i) => `$${i + 1}::${t.endsWith("[]") ? "text" : t}[]`);
    const alias = types.map((t, i) => (t.endsWith("[]") ? `u.c${i}::${t}` : `u.c${i}`));
    return { from: `unnest(${params.join(", ")}) AS u(${columns.map((_, i) => `c${i}`).join(", ")})`, select: alias.join(", "), alias };
  }

  /** Runs a statement once per range of rows, each column one array parameter. */
  private async run(sql: string, params: readonly unknown[], width: number): Promise<void> {
    const client = this.connection();
    const name = this.nameOf(sql);
    for (const [start, end] of rowRanges(params, width, MAX_ROWS, this.maxStatementBytes)) {
      const values = new Array<string>(width);
      for (let c = 0; c < width; c++) {
        this.literal.start();
        for (let r = start; r < end; r++) this.literal.element(pgText(params[r * width + c]));
        values[c] = this.literal.end();
      }
      await client.query({ name, text: sql, values });
    }
  }

  private nameOf(sql: string): string {
    let name = this.names.get(sql);
    if (!name) this.names.set(sql, (name = `liberator_${createHash("sha1").update(sql).digest("hex").slice(0, 20)}`));
    return name;
  }
}

/**
 * The type to cast an array parameter to: the column's type without modifiers. Bare `bit` and
 * `character` mean bit(1) and char(1) in a cast, so their unbounded forms stand in for them.
 */
export function castType(formatType: string): string {
  const array = /(\[\])+$/.exec(formatType)?.[0] ?? "";
  let base = formatType.slice(0, formatType.length - array.length).replace(/\([^)]*\)/g, "").replace(/\s+/g, " ").trim();
  if (base === "bit") base = "bit varying";
  else if (base === "character") base = "bpchar";
  else if (base.startsWith("interval")) base = "interval";
  return `${base}${array}`;
}

/** A driver parameter (toSqlParam) as the text element of an array literal. */
export function pgText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  // String(-0) is "0": a negative zero (real, double precision) would arrive positive
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "bigint") return String(value);
  if (typeof value === "boolean") return value ? "t" : "f";
  if (Buffer.isBuffer(value)) return `\\x${value.toString("hex")}`;
  if (Array.isArray(value)) return pgArray(value.map(pgText));
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** An array literal, every element quoted: `{"a","b \\" c",NULL}`. */
export function pgArray(items: readonly (string | null)[]): string {
  const literal = new ArrayLiteral(256);
  literal.start();
  for (const s of items) literal.element(s);
  return literal.end();
}

/**
 * Builds array literals in one reused buffer: a column of ten thousand rows becomes one string,
 * not ten thousand concatenations the collector has to follow.
 */
class ArrayLiteral {
  private buf: Buffer;
  private pos = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  start(): void {
    this.pos = 0;
    this.buf[this.pos++] = 0x7b; // {
  }

  element(s: string | null): void {
    this.room(s === null ? 5 : s.length * 6 + 4);
    if (this.pos > 1) this.buf[this.pos++] = 0x2c; // ,
    if (s === null) {
      this.pos += this.buf.write("NULL", this.pos, "latin1");
      return;
    }
    this.buf[this.pos++] = 0x22; // "
    this.pos += this.buf.write(s.includes('"') || s.includes("\\") ? s.replace(/[\\"]/g, "\\$&") : s, this.pos, "utf8");
    this.buf[this.pos++] = 0x22;
  }

  end(): string {
    this.room(1);
    this.buf[this.pos++] = 0x7d; // }
    return this.buf.toString("utf8", 0, this.pos);
  }

  /** Room for `bytes` more (a UTF-16 unit takes at most 3 bytes of UTF-8; escaping doubles it). */
  private room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}
