/**
 * One table or custom query: its plan and Avro stream, the page query, and turning driver rows
 * into records. Follows the table: a page whose columns differ from the last one's (a DDL) makes
 * it describe the table again and pass the new schema through the gate before any row is used.
 */
import type { AvroSchema, ChangeRecord, Json, SchemaGate } from "../../runtime/connector.js";
import type { Logger } from "../../runtime/log.js";
import { ErrorCode, LiberatorError, PreconditionError } from "../../runtime/errors.js";
import { envelope, tableStream, type SourceInfo, type TableStream } from "../../runtime/sql-types/envelope.js";
import type { TableDescription } from "../../runtime/db/introspect.js";
import { sampleRowBytes } from "../../runtime/db/row-bytes.js";
import type { MapOptions } from "../../runtime/sql-types/mapping.js";
import { formatTimestamp, parseTimestamp } from "../../runtime/avro/values.js";
import type { StreamConfig } from "./config.js";
import type { DriverRow, SourceDatabase } from "./database.js";
import { planStream, streamLabel, type StreamPlan } from "./plan.js";
import { decodeValue, encodeValue, type StreamCursor } from "./position.js";
import { keyIdentity, keyValues, type KeyId } from "./deletes.js";
import { fractionDigits, isZoned, type Params } from "./sql.js";

const NEW_FLAG = "__liberator_new";
const DELETED_FLAG = "__liberator_deleted";

/** The upper end of a page: ids up to a value, or timestamps before a UTC instant. */
export type Bound = { id: Json } | { before: string } | null;

export interface PageResult {
  records: ChangeRecord[];
  /** Rows the query returned (some may be skipped, e.g. soft-deleted rows of an initial load). */
  rows: number;
  /** The newest timestamp read, ms since 1970, when the timestamp column holds instants. */
  newestMs?: number;
}

export interface StreamOptions {
  connector: string;
  /** The connection's database: `source.db` of PostgreSQL tables and of custom queries. */
  database: string;
  log: Logger;
  mapping: MapOptions;
  /** The zone of wall-clock timestamp columns. */
  zone: string;
  gate: SchemaGate;
}

const isTrue = (v: unknown) => v === true || v === 1 || v === "1" || v === "t";

/** A UTC instant in microseconds as "YYYY-MM-DD HH:MM:SS.ffffff", cut down to `digits` fraction digits. */
export function utcText(micros: number, digits: number): string {
  const unit = 10 ** (6 - digits);
  return formatTimestamp(Math.floor(micros / unit) * unit, false).replace("T", " ");
}

export class PageReader {
  readonly config: StreamConfig;
  readonly label: string;
  private readonly sourceDb: string;
  private readonly sourceTable: string;
  plan!: StreamPlan;
  stream!: TableStream;
  private shape: string | undefined;
  /** Result columns a `SELECT *` page is expected to return, flags included. */
  private expected: string[] = [];
  /** About how many bytes a row of the last page held: pages are sized to batch.maxBytes with it. */
  rowBytes = 0;

  constructor(
    config: StreamConfig,
    private readonly db: SourceDatabase,
    private readonly options: StreamOptions,
  ) {
    this.config = config;
    this.label = streamLabel(config);
    // as Debezium names them: MySQL's database and table; PostgreSQL's database and schema.table
    const mysqlTable = db.sql.dialect === "mysql" && !config.sql;
    this.sourceDb = mysqlTable ? config.schema : options.database;
    this.sourceTable = mysqlTable || config.sql ? config.table : `${config.schema}.${config.table}`;
  }

  get topic(): string {
    return this.config.topic;
  }

  /** Reads the table's (or query's) columns, checks them against the config and the schema registry. */
  async describe(): Promise<void> {
    const c = this.config;
    const described = await describeSource(this.db, c);
    if (!described) throw missingTable(c);
    const result = planStream(c, described);
    if (!result.plan) {
      const [first, ...more] = result.problems;
      const also = more.length > 0 ? `; also: ${more.map((p) => p.message).join("; ")}` : "";
      throw new PreconditionError(first!.code, `${first!.message}${also}`, first!.fix ? { fix: first!.fix } : {});
    }
    const stream = streamOfPlan(result.plan, this.options.mapping);
    await this.options.gate.check(`${c.topic}-value`, stream.valueSchema);
    if (stream.keySchema) await this.options.gate.check(`${c.topic}-key`, stream.keySchema);
    this.plan = result.plan;
    this.stream = stream;
    this.shape = undefined;
    this.expected = [...(this.plan.explicit ? this.plan.columns : described.columns).map((col) => col.name), ...this.flagNames()];
  }

  /**
   * Rows after the position's cursor up to `bound`, in keyset order, at most `limit`; the position
   * moves to the last row read.
   */
  async page(position: StreamCursor, bound: Bound, limit: number, snapshot: boolean): Promise<PageResult> {
    for (let attempt = 0; ; attempt++) {
      const { sql, params } = this.pageSql(position, bound, limit);
      const page = await this.db.select(sql, params).catch((err: unknown) => {
        if (err instanceof LiberatorError) throw err;
        throw new LiberatorError(ErrorCode.QUERY_FAILED, `${this.label}: the page query failed: ${(err as Error).message}`, {
          cause: err,
          fix: "check the table and the user's privileges; the connector retries from its last committed position",
        });
      });
      if (page.shape === this.shape) return this.toRecords(page.rows, position, snapshot);
      if (this.shape !== undefined) {
        // the columns' types or names changed since the last page (a DDL)
        await this.describe();
        this.options.log.info({ topic: this.topic, columns: this.plan.columns.map((c) => `${c.name} ${c.sqlType}`) }, `${this.label} changed: reading it with its new columns`);
      }
      if (page.columns.length === this.expected.length && page.columns.every((name, i) => name === this.expected[i])) {
        this.shape = page.shape;
        return this.toRecords(page.rows, position, snapshot);
      }
      // the columns changed under us (a DDL): describe again and read the page anew
      if (attempt >= 3) {
        throw new LiberatorError(ErrorCode.QUERY_SCHEMA_UNSTABLE, `${this.label}: its columns kept changing while it was read (${page.columns.join(", ")})`);
      }
      await this.describe();
    }
  }

  /** The highest incrementing id visible now beyond the cursor (the cursor itself when there is none): a horizon sample. */
  async visibleMax(position: StreamCursor): Promise<Json> {
    const q = this.db.sql;
    const inc = this.plan.incrementing!;
    const params: Params = [];
    const cursor = this.cursorValues(position);
    const where = cursor ? ` WHERE ${q.after(params, [inc], cursor)}` : "";
    const [row] = await this.db.rows(`SELECT MAX(${q.quote(inc.name)}) AS m FROM ${this.from()}${where}`, params);
    const max = row?.m ?? null;
    return max === null ? (cursor ? encodeValue(cursor[0]) : null) : encodeValue(max);
  }

  /** Which of these emitted keys the table still has. */
  async existingKeys(ids: readonly KeyId[]): Promise<Set<KeyId>> {
    const q = this.db.sql;
    const key = this.stream.key;
    const params: Params = [];
    const columns = key.map((c) => q.quote(c.column));
    const infos = this.plan.columns.filter((c) => this.plan.key.includes(c.name));
    const byName = new Map(infos.map((c) => [c.name, c]));
    const tuples = ids.map((id) => {
      const values = keyValues(id);
      const list = key.map((c, i) => q.param(params, values[i], byName.get(c.column)!));
      return list.length === 1 ? list[0]! : `(${list.join(", ")})`;
    });
    const target = columns.length === 1 ? columns[0]! : `(${columns.join(", ")})`;
    // the pages' session: a TIMESTAMP key reads back in UTC, as it was read when emitted
    const rows = await this.db.lookup(`SELECT ${columns.join(", ")} FROM ${this.from()} WHERE ${target} IN (${tuples.join(", ")})`, params);
    return new Set(rows.map((row) => keyIdentity(this.keyOfDriverRow(row))));
  }

  /** A delete and a tombstone for a key the table no longer has (the row is gone: `before` is null). */
  deleteRecords(id: KeyId): ChangeRecord[] {
    const values = keyValues(id);
    const key = Object.fromEntries(this.stream.key.map((c, i) => [c.field.name, c.fromDriver(values[i])]));
    const source: SourceInfo = { connector: "query", name: this.options.connector, db: this.sourceDb, table: this.sourceTable, snapshot: null, ts_ms: Date.now() };
    const { topic, keySchema, valueSchema } = this.stream;
    return [
      { topic, key, keySchema, value: envelope("d", null, null, source), valueSchema, timestamp: source.ts_ms as number },
      { topic, key, keySchema, value: null, valueSchema, timestamp: source.ts_ms as number },
    ];
  }

  private keyOfDriverRow(row: DriverRow): Record<string, unknown> {
    return Object.fromEntries(this.stream.key.map((c) => [c.field.name, c.fromDriver(row[c.column])]));
  }

  private from(): string {
    const q = this.db.sql;
    return this.config.sql ? `(${this.config.sql}) AS liberator_query` : `${q.quote(this.config.schema)}.${q.quote(this.config.table)}`;
  }

  private flagNames(): string[] {
    const flags: string[] = [];
    if (this.newness() !== undefined) flags.push(NEW_FLAG);
    if (this.plan.softDelete) flags.push(DELETED_FLAG);
    return flags;
  }

  /** How a row tells it is new: created after the cursor, or an id beyond the highest read. */
  private newness(): "created" | "id" | undefined {
    if (this.plan.created && this.plan.timestamp) return "created";
    if (this.plan.config.mode === "timestamp+incrementing") return "id";
    return undefined;
  }

  private pageSql(position: StreamCursor, bound: Bound, limit: number): { sql: string; params: Params } {
    const q = this.db.sql;
    const plan = this.plan;
    const params: Params = [];
    let list = plan.explicit ? plan.columns.map((c) => q.quote(c.name)).join(", ") : "*";
    const newness = this.newness();
    const cursor = this.cursorValues(position);
    if (newness === "created") {
      // new when its first version (created = the timestamp, as inserts stamp both) lies beyond the cursor
      list += `, ${cursor === null ? "TRUE" : q.after(params, [plan.created!, ...plan.cursor.slice(1)], cursor)} AS ${q.quote(NEW_FLAG)}`;
    } else if (newness === "id") {
      const max = position.maxId ?? null;
      list += `, ${max === null ? "TRUE" : `(${q.quote(plan.incrementing!.name)} > ${q.param(params, decodeValue(max), plan.incrementing!)})`} AS ${q.quote(NEW_FLAG)}`;
    }
    const soft = plan.softDelete;
    if (soft) {
      const wanted = this.config.softDelete!.value;
      const test =
        wanted === undefined
          ? `${q.quote(soft.name)} IS NOT NULL`
          : `${q.quote(soft.name)} = ${q.param(params, typeof wanted === "boolean" && soft.dialect === "mysql" ? Number(wanted) : String(wanted), soft)}`;
      list += `, (${test}) AS ${q.quote(DELETED_FLAG)}`;
    }
    const where: string[] = [];
    if (cursor) where.push(q.after(params, plan.cursor, cursor));
    if (bound && "id" in bound) where.push(`${q.quote(plan.incrementing!.name)} <= ${q.param(params, decodeValue(bound.id), plan.incrementing!)}`);
    if (bound && "before" in bound) where.push(`${q.quote(plan.timestamp!.name)} < ${q.instant(params, bound.before, plan.timestamp!, this.options.zone)}`);
    const order = plan.cursor.map((c) => q.quote(c.name)).join(", ");
    return { sql: `SELECT ${list} FROM ${this.from()}${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY ${order} LIMIT ${limit}`, params };
  }

  /** The cursor as values in keyset order; null before the first row. */
  private cursorValues(position: StreamCursor): unknown[] | null {
    const plan = this.plan;
    const ids = position.id === undefined || position.id === null ? null : plan.cursor.length - (plan.timestamp ? 1 : 0) > 1 ? (position.id as Json[]) : [position.id];
    if (plan.timestamp) {
      if (position.ts === undefined || position.ts === null) return null;
      return [position.ts, ...(ids ?? []).map(decodeValue)];
    }
    return ids ? ids.map(decodeValue) : null;
  }

  private toRecords(rows: DriverRow[], position: StreamCursor, snapshot: boolean): PageResult {
    const result: PageResult = { records: [], rows: rows.length };
    if (rows.length === 0) return result;
    this.rowBytes = sampleRowBytes(rows);
    const plan = this.plan;
    const stream = this.stream;
    const zonedTs = plan.timestamp && isZoned(plan.timestamp) ? plan.timestamp.name : undefined;
    const newness = this.newness();
    const source: SourceInfo = {
      connector: "query",
      name: this.options.connector,
      db: this.sourceDb,
      table: this.sourceTable,
      snapshot: snapshot ? "true" : null,
      ts_ms: Date.now(),
    };
    const keySchema = stream.keySchema;
    const valueSchema: AvroSchema = stream.valueSchema;
    const records = result.records;
    for (const row of rows) {
      const after = stream.row(row);
      const key = stream.keyOf(after);
      let rowSource = source;
      if (zonedTs !== undefined) {
        const stamp = String(row[zonedTs]);
        // PostgreSQL's -infinity (infinity is never below the horizon) is no time: the row is seen now
        const ms = stamp.endsWith("infinity") ? Date.now() : Math.floor(Number(parseTimestamp(stamp, true)) / 1000);
        rowSource = { ...source, ts_ms: ms };
        result.newestMs = ms;
      }
      if (plan.softDelete && isTrue(row[DELETED_FLAG])) {
        if (snapshot) continue; // consumers never saw it: nothing to delete
        records.push({ topic: stream.topic, key, keySchema, value: envelope("d", after, null, rowSource), valueSchema, timestamp: Number(rowSource.ts_ms) });
        records.push({ topic: stream.topic, key, keySchema, value: null, valueSchema, timestamp: Number(rowSource.ts_ms) });
        continue;
      }
      const op = snapshot ? "r" : newness ? (isTrue(row[NEW_FLAG]) ? "c" : "u") : plan.config.mode === "incrementing" ? "c" : "u";
      records.push({ topic: stream.topic, key, keySchema, value: envelope(op, null, after, rowSource), valueSchema, timestamp: Number(rowSource.ts_ms) });
    }
    this.advance(position, rows[rows.length - 1]!);
    if (newness === "id") position.maxId = maxOf(position.maxId ?? null, rows, plan.incrementing!.name);
    return result;
  }

  private advance(position: StreamCursor, last: DriverRow): void {
    const plan = this.plan;
    const ids = plan.cursor.slice(plan.timestamp ? 1 : 0).map((c) => encodeValue(last[c.name]));
    if (plan.timestamp) position.ts = String(last[plan.timestamp.name]);
    position.id = ids.length === 1 ? ids[0]! : ids;
  }
}

/** Bytes per row, from the values of a few rows spread over the page: cheap, and close to their Avro size. */
/** The highest integer of `column` among `rows` and `current`, compared exactly. */
function maxOf(current: Json, rows: DriverRow[], column: string): Json {
  let best = current === null ? null : BigInt(current as string);
  for (const row of rows) {
    const v = BigInt(String(row[column]));
    if (best === null || v > best) best = v;
  }
  return best === null ? null : best.toString();
}

/** The columns of a table, or of a custom query's result (no primary key); null when the table is not there. */
export async function describeSource(db: SourceDatabase, config: StreamConfig): Promise<TableDescription | null> {
  return config.sql ? { columns: await db.describeQuery(config.sql), primaryKey: [] } : db.describeTable(config.schema, config.table);
}

export function missingTable(config: StreamConfig): PreconditionError {
  return new PreconditionError(ErrorCode.QUERY_TABLE_MISSING, `${streamLabel(config)} does not exist, or the user cannot see it`, {
    fix: `fix ${config.at} (written database.table or schema.table), or GRANT SELECT on it`,
  });
}

/** The Avro stream of a plan; a column type without a lossless mapping is named with its table. */
export function streamOfPlan(plan: StreamPlan, mapping: MapOptions): TableStream {
  try {
    return tableStream({ columns: plan.columns, primaryKey: plan.key }, { topic: plan.config.topic, mapping });
  } catch (err) {
    if (!(err instanceof LiberatorError)) throw err;
    throw new PreconditionError(err.code, `${streamLabel(plan.config)}: ${err.message}`, { cause: err, ...(err.fix ? { fix: err.fix } : {}) });
  }
}

/** The bound of a page in the timestamp column's terms. */
export function timeBound(micros: number, plan: StreamPlan): Bound {
  return { before: utcText(micros, fractionDigits(plan.timestamp!)) };
}
