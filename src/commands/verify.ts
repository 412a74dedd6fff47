/**
 * `liberator verify --source A --sink B [--through-kafka]`: does the sink's table hold what the
 * source's table holds (and, through Kafka, what the table's topic says last for each key)? Both
 * databases are read through the shared db layer as exactly as the sources read them (verify-db.ts),
 * in key order, chunk by chunk over the source's primary-key ranges, every value in its canonical
 * form (the SQL type mapping of each side's own column types), so a MariaDB DATETIME(6) and a
 * PostgreSQL timestamp, or DECIMAL and numeric, compare equal when they hold the same value. A table
 * without a key is compared as a multiset: a count per distinct row. One table's problem is that
 * table's report; the run goes on. Prints counts, the keys that differ and the first differing key
 * and column; exit 1 on a difference.
 */
import type { DatabaseConnection } from "../runtime/config/fields.js";
import type { ConnectorConfig } from "../runtime/config/load.js";
import type { TableDescription } from "../runtime/db/introspect.js";
import { ConfigError, ErrorCode, PreconditionError, toLiberatorError } from "../runtime/errors.js";
import { createKafka } from "../runtime/kafka/client.js";
import { createLogger } from "../runtime/log.js";
import { schemaServiceFactory } from "../runtime/schema-registry/index.js";
import { mapColumn, type Dialect, type MapOptions, type MappedColumn } from "../runtime/sql-types/mapping.js";
import { fieldType, toSqlParam } from "../runtime/sql-types/to-sql.js";
import type { SqlSinkConfig } from "../sinks/sql/config.js";
import { resolveTable, tableRefOf } from "../sinks/sql/table-name.js";
import { tableFilter } from "../sources/binlog/filters.js";
import { stableJson } from "../runtime/json.js";
import { EXIT, loadOrExit } from "./load.js";
import { openDatabase, type Row, type TableRef, type VerifyDatabase } from "./verify-db.js";
import { readTopic, type KafkaSide } from "./verify-kafka.js";

export type { KafkaSide } from "./verify-kafka.js";

export interface VerifyOptions {
  source: string;
  sink: string;
  /** "db.table" (or "schema.table"); every table of the source connector when empty. */
  table?: string[];
  /** Rows per compared key range. */
  chunk?: number;
  /** Also read each table's topic (read_committed) and compare source, Kafka and sink. */
  throughKafka?: boolean;
}

/** One key range whose rows differ; keys are shown as the source prints them. */
export interface RangeDiff {
  from: string | null;
  to: string | null;
  sourceRows: number;
  sinkRows: number;
  missing: string[];
  extra: string[];
  different: string[];
  /** With Kafka: keys of the range whose last state in the topic is missing, or differs from the source. */
  kafkaMissing?: string[];
  kafkaDifferent?: string[];
}

/** The first difference in key order: the key, the first column that differs (null when a whole row is absent somewhere) and each side's value. */
export interface FirstDifference {
  key: string;
  column: string | null;
  source: string;
  kafka?: string;
  sink: string;
}

export interface TableReport {
  source: string;
  sink: string;
  /** With Kafka: the table's topic. */
  topic?: string;
  sourceRows: number;
  sinkRows: number;
  /** With Kafka: live keys (or rows of a keyless table) in the topic's last state. */
  kafkaRows?: number;
  columns: string[];
  ranges: number;
  /** No primary key and no keyColumns: compared as multisets, a count per distinct row. */
  keyless: boolean;
  diffs: RangeDiff[];
  /** With Kafka: keys (rows of a keyless table) the topic holds and the source does not. */
  kafkaOnly?: string[];
  first?: FirstDifference;
  /** Set when the table could not be compared. */
  error?: string;
}

const SHOWN_KEYS = 5;
const SHOWN_CHARS = 80;
const NULL = "\u0000";
const ABSENT = "(no row)";

export interface SourceSide {
  dialect: Dialect;
  connection: DatabaseConnection;
  topicPrefix: string;
  /** Tables named in the config (query source), or include/exclude patterns (binlog source). */
  tables: string[];
  include?: string[] | undefined;
  exclude?: string[] | undefined;
  /** The source's zero-date policies: a value it reads as NULL compares as NULL, one it refuses is that table's error. */
  mapOptions?: MapOptions;
  /** Column names whose values the source masks or hashes per table: not comparable. */
  hidden(table: string): Set<string>;
  keyColumns(table: string): string[] | undefined;
}

export async function verifyCommand(file: string, options: VerifyOptions): Promise<number> {
  const config = loadOrExit(file);
  const find = (name: string, kind: "source" | "sink") => {
    const c = config.connectors.find((x) => x.name === name);
    if (!c) throw new ConfigError([`--${kind} ${name}: no connector of that name in ${file} (${config.connectors.map((x) => x.name).join(", ")})`]);
    if (c.spec.kind !== kind) throw new ConfigError([`--${kind} ${name}: connector "${name}" is a ${c.spec.kind}, not a ${kind}`]);
    return c;
  };
  let close = async () => {};
  try {
    const sinkConnector = find(options.sink, "sink");
    if (sinkConnector.type !== "sql") throw new ConfigError([`--sink ${options.sink}: verify compares tables, and "${options.sink}" is a ${sinkConnector.type} sink`]);
    const source = sourceSide(find(options.source, "source"));
    const sinkConfig = sinkConnector.config as unknown as SqlSinkConfig;
    let kafka: KafkaSide | undefined;
    if (options.throughKafka) {
      const log = createLogger({ level: process.env.LOG_LEVEL ?? "error" });
      const client = createKafka(config.root.kafka, log, "verify");
      const service = await schemaServiceFactory(config.root, { kafka: client, log });
      close = () => service.close();
      kafka = { kafka: client, deserializer: service.deserializer, timeoutMs: 120_000 };
    }
    const reports = await verifyTables(source, sinkConfig, options, kafka);
    process.stdout.write(`${formatReports(reports)}\n`);
    return reports.some(failed) ? EXIT.failed : EXIT.ok;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.problems.join("\n")}\n`);
      return EXIT.config;
    }
    process.stderr.write(`verify failed: ${toLiberatorError(err).describe()}\n`);
    return EXIT.failed;
  } finally {
    await close();
  }
}

const failed = (r: TableReport) => r.error !== undefined || r.diffs.length > 0 || (r.kafkaOnly?.length ?? 0) > 0;

/**
 * What verify needs from a source connector's config: its database, its tables, their topic
 * prefix and its zero-date policies. The binlog source names tables by include/exclude patterns
 * and per-table settings and keeps its policies at the top, the query source a `tables` list and
 * `mapping`; both keep `connection` and `topicPrefix`.
 */
export function sourceSide(c: ConnectorConfig): SourceSide {
  const cfg = c.config as Record<string, unknown>;
  const connection = cfg.connection as (DatabaseConnection & { port?: number }) | undefined;
  if (!connection) throw new ConfigError([`--source ${c.name}: a ${c.type} source has no database connection to compare`]);
  const dialect: Dialect = cfg.dialect === "postgres" ? "postgres" : "mysql";
  const perTable = (typeof cfg.tables === "object" && cfg.tables !== null && !Array.isArray(cfg.tables) ? cfg.tables : {}) as Record<string, { keyColumns?: string[]; columns?: Record<string, string[] | undefined> }>;
  const listed = Array.isArray(cfg.tables) ? (cfg.tables as (string | { name: string; keyColumns?: string[] })[]) : [];
  const entry = (t: string) => listed.find((e) => typeof e !== "string" && e.name === t) as { keyColumns?: string[] } | undefined;
  const policies = (cfg.mapping ?? cfg) as MapOptions;
  return {
    dialect,
    connection: { ...connection, port: connection.port ?? (dialect === "postgres" ? 5432 : 3306) },
    topicPrefix: typeof cfg.topicPrefix === "string" ? cfg.topicPrefix : c.name,
    tables: [...listed.map((e) => (typeof e === "string" ? e : e.name)), ...Object.keys(perTable)],
    mapOptions: { zeroDates: policies.zeroDates, partialZeroDates: policies.partialZeroDates },
    hidden: (t) => new Set([...(perTable[t]?.columns?.mask ?? []), ...(perTable[t]?.columns?.hash ?? [])]),
    keyColumns: (t) => perTable[t]?.keyColumns ?? entry(t)?.keyColumns,
    include: Array.isArray(cfg.include) ? (cfg.include as string[]) : undefined,
    exclude: Array.isArray(cfg.exclude) ? (cfg.exclude as string[]) : undefined,
  };
}

export async function verifyTables(source: SourceSide, sink: SqlSinkConfig, options: Pick<VerifyOptions, "table" | "chunk">, kafka?: KafkaSide): Promise<TableReport[]> {
  const from = await openDatabase(source.dialect, source.connection);
  try {
    const to = await openDatabase(sink.dialect, sink.connection);
    try {
      const tables = options.table?.length ? options.table : source.include ? await matchingTables(from, source.include, source.exclude ?? []) : source.tables;
      if (tables.length === 0) throw new ConfigError([`the source names no table to compare: give --table db.table`]);
      const reports: TableReport[] = [];
      for (const name of tables) {
        const ref = qualified(name, source.dialect, source.connection);
        const topic = `${source.topicPrefix}.${ref.schema}.${ref.name}`;
        const target = qualified(resolveTable(sink.table, topic, { db: ref.schema, table: ref.name }, sink.dialect), sink.dialect, sink.connection);
        const report: TableReport = { source: from.quoteTable(ref), sink: to.quoteTable(target), sourceRows: 0, sinkRows: 0, columns: [], ranges: 0, keyless: false, diffs: [] };
        if (kafka) report.topic = topic;
        try {
          await verifyTable(report, { db: from, ref, source }, { db: to, ref: target }, options.chunk ?? 10_000, kafka);
        } catch (err) {
          // this table's problem (a zero date the source refuses, a value no mapping reads): the others are still compared
          report.error = toLiberatorError(err).describe();
        }
        reports.push(report);
      }
      return reports;
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}

/** A bare table name is in the connection's database (MySQL) or the public schema (PostgreSQL), as the sources read it and the sinks write it. */
function qualified(name: string | { schema?: string | undefined; name: string }, dialect: Dialect, connection: DatabaseConnection): TableRef {
  const ref = typeof name === "string" ? tableRefOf(name) : name;
  return { schema: ref.schema ?? (dialect === "postgres" ? "public" : (connection.database ?? "")), name: ref.name };
}

/** Tables on a MySQL/MariaDB server matching "db.table" patterns with * and ?, as the binlog source captures them. */
async function matchingTables(db: VerifyDatabase, include: string[], exclude: string[]): Promise<string[]> {
  const filter = tableFilter(include, exclude);
  return (await db.listTables()).filter((t) => filter.captures(t.schema, t.name)).map((t) => `${t.schema}.${t.name}`);
}

interface Side {
  db: VerifyDatabase;
  ref: TableRef;
  table: TableDescription;
  /** The compared columns as this side's own types map them. */
  columns: MappedColumn[];
  compare: ((value: unknown) => string)[];
  key: MappedColumn[];
}

/** A row as compared: canonical key values, its identity (the key's compared text) and every compared value. */
interface ReadRow {
  key: unknown[];
  id: string;
  values: string[];
}

/** The last state of a table's topic: by key id for a keyed table, by row for a keyless one (with a count). */
interface KafkaState {
  rows: Map<string, { key: string; values: string[]; count: number }>;
}

async function verifyTable(
  report: TableReport,
  from: { db: VerifyDatabase; ref: TableRef; source: SourceSide },
  to: { db: VerifyDatabase; ref: TableRef },
  chunk: number,
  kafka: KafkaSide | undefined,
): Promise<void> {
  const [a, b] = await Promise.all([from.db.describe(from.ref), to.db.describe(to.ref)]);
  if (!a) throw new PreconditionError(ErrorCode.VERIFY_TABLE_MISSING, `the source table ${report.source} does not exist`);
  if (!b) throw new PreconditionError(ErrorCode.VERIFY_TABLE_MISSING, `the sink table ${report.sink} does not exist`);
  const qualifiedName = `${from.ref.schema}.${from.ref.name}`;
  const hidden = from.source.hidden(qualifiedName);
  const names = a.columns.map((c) => c.name).filter((n) => !hidden.has(n) && b.columns.some((c) => c.name === n));
  const keyNames = a.primaryKey.length > 0 ? a.primaryKey : (from.source.keyColumns(qualifiedName) ?? []);
  const missingKey = keyNames.filter((k) => !names.includes(k));
  if (missingKey.length > 0) throw new PreconditionError(ErrorCode.VERIFY_KEY_MISSING, `no key to compare by: the sink table lacks the key column(s) ${missingKey.join(", ")}`);
  const side = (db: VerifyDatabase, ref: TableRef, table: TableDescription, options: MapOptions): Side => {
    const columns = names.map((n) => mapColumn(table.columns.find((c) => c.name === n)!, options));
    return { db, ref, table, columns, compare: columns.map(comparer), key: keyNames.map((k) => columns[names.indexOf(k)]!) };
  };
  const src = side(from.db, from.ref, a, from.source.mapOptions ?? {});
  const dst = side(to.db, to.ref, b, {});
  report.columns = names;
  report.keyless = keyNames.length === 0;
  let state: KafkaState | undefined;
  if (kafka) {
    state = await lastState(kafka, report.topic!, src);
    report.kafkaRows = [...state.rows.values()].reduce((n, r) => n + r.count, 0);
  }
  if (report.keyless) return compareMultisets(report, src, dst, state);
  let lo: unknown[] | undefined;
  for (;;) {
    const sourceRows = await readRange(src, src, lo, undefined, chunk);
    const hi = sourceRows.length === chunk ? sourceRows[sourceRows.length - 1]!.key : undefined;
    const sinkRows = await readRange(dst, src, lo, hi, undefined);
    report.ranges++;
    report.sourceRows += sourceRows.length;
    report.sinkRows += sinkRows.length;
    const diff = compareRange(report, sourceRows, sinkRows, state);
    if (diff) report.diffs.push({ from: lo ? showKey(lo) : null, to: hi ? showKey(hi) : null, sourceRows: sourceRows.length, sinkRows: sinkRows.length, ...diff });
    if (!hi) break;
    lo = hi;
  }
  if (state) {
    report.kafkaOnly = [...state.rows.values()].map((r) => r.key);
    if (report.kafkaOnly.length > 0) report.first ??= { key: report.kafkaOnly[0]!, column: null, source: ABSENT, kafka: "(a row)", sink: ABSENT };
  }
}

/** The topic's last state, in the source's compared form: the envelope's `after` per key (deletes and tombstones remove it), or per row for a keyless table. */
async function lastState(kafka: KafkaSide, topic: string, src: Side): Promise<KafkaState> {
  const rows: KafkaState["rows"] = new Map();
  const values = (row: Record<string, unknown>) => src.columns.map((c, i) => src.compare[i]!(row[c.field.name]));
  const keyed = src.key.length > 0;
  const found = await readTopic(kafka, topic, (key, value) => {
    const change = value as { op?: string; before?: Record<string, unknown> | null; after?: Record<string, unknown> | null } | null;
    if (keyed) {
      const record = key as Record<string, unknown> | null;
      if (!record) return;
      const keyValues = src.key.map((k) => record[k.field.name]);
      const id = src.key.map((k, i) => src.compare[src.columns.indexOf(k)]!(keyValues[i])).join(NULL);
      if (!change?.after || change.op === "d") rows.delete(id);
      else rows.set(id, { key: showKey(keyValues), values: values(change.after), count: 1 });
      return;
    }
    if (!change) return;
    if (change.before && change.op !== "c" && change.op !== "r") count(rows, values(change.before), -1);
    if (change.after && change.op !== "d") count(rows, values(change.after), 1);
  });
  if (!found) throw new PreconditionError(ErrorCode.VERIFY_TABLE_MISSING, `the topic ${topic} does not exist`);
  return { rows };
}

function count(rows: KafkaState["rows"], values: string[], by: number): void {
  const id = values.join(NULL);
  const row = rows.get(id) ?? { key: showRow(values), values, count: 0 };
  row.count += by;
  if (row.count === 0) rows.delete(id);
  else rows.set(id, row);
}

/**
 * Rows of (lo, hi] in key order (`hi` undefined: to the end), at most `limit`. Bounds are
 * canonical values of the source's key, written as parameters of this side's dialect; text keys
 * compare in binary order on both sides, so both databases cut ranges at the same rows.
 */
async function readRange(side: Side, keyTypes: Side, lo: unknown[] | undefined, hi: unknown[] | undefined, limit: number | undefined): Promise<ReadRow[]> {
  const { db } = side;
  const postgres = db.dialect === "postgres";
  const ordered = side.key.map((k) => {
    const textual = /char|text|enum|set/i.test(side.table.columns.find((c) => c.name === k.column)!.sqlType);
    return textual ? (postgres ? `${db.quote(k.column)} COLLATE "C"` : `BINARY ${db.quote(k.column)}`) : db.quote(k.column);
  });
  const tuple = ordered.length === 1 ? ordered[0]! : `(${ordered.join(", ")})`;
  const params: unknown[] = [];
  const bound = (values: unknown[]) => {
    const marks = values.map((v, i) => {
      params.push(toSqlParam(v, keyTypes.key[i]!.field, db.dialect));
      return db.placeholder(params.length);
    });
    return marks.length === 1 ? marks[0]! : `(${marks.join(", ")})`;
  };
  const where: string[] = [];
  if (lo) where.push(`${tuple} > ${bound(lo)}`);
  if (hi) where.push(`${tuple} <= ${bound(hi)}`);
  const rows = await db.select(`${selectAll(side)}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY ${ordered.join(", ")}${limit ? ` LIMIT ${limit}` : ""}`, params);
  return rows.map((r) => readRow(side, r));
}

function selectAll(side: Side): string {
  return `SELECT ${side.columns.map((c) => `${c.select(side.db.quote(c.column))} AS ${side.db.quote(c.column)}`).join(", ")} FROM ${side.db.quoteTable(side.ref)}`;
}

function readRow(side: Side, r: Row): ReadRow {
  const values = side.columns.map((c, i) => side.compare[i]!(c.fromDriver(r[c.column])));
  return { key: side.key.map((k) => k.fromDriver(r[k.column])), id: side.key.map((k) => values[side.columns.indexOf(k)]!).join(NULL), values };
}

function compareRange(report: TableReport, source: ReadRow[], sink: ReadRow[], state: KafkaState | undefined): Omit<RangeDiff, "from" | "to" | "sourceRows" | "sinkRows"> | undefined {
  const theirs = new Map(sink.map((r) => [r.id, r]));
  const diff = { missing: [] as string[], extra: [] as string[], different: [] as string[], ...(state ? { kafkaMissing: [] as string[], kafkaDifferent: [] as string[] } : {}) };
  for (const r of source) {
    const other = theirs.get(r.id);
    theirs.delete(r.id);
    const inKafka = state?.rows.get(r.id);
    state?.rows.delete(r.id);
    const key = showKey(r.key);
    if (!other) diff.missing.push(key);
    else if (!sameValues(r.values, other.values)) diff.different.push(key);
    if (state && !inKafka) diff.kafkaMissing!.push(key);
    else if (inKafka && !sameValues(r.values, inKafka.values)) diff.kafkaDifferent!.push(key);
    report.first ??= firstDifference(report.columns, key, r.values, other?.values, state ? (inKafka?.values ?? null) : undefined);
  }
  diff.extra = [...theirs.values()].map((r) => showKey(r.key));
  if (diff.extra.length > 0) report.first ??= { key: diff.extra[0]!, column: null, source: ABSENT, sink: "(a row)" };
  const found = diff.missing.length + diff.extra.length + diff.different.length + (diff.kafkaMissing?.length ?? 0) + (diff.kafkaDifferent?.length ?? 0);
  return found > 0 ? diff : undefined;
}

const sameValues = (a: string[], b: string[]) => a.every((v, i) => v === b[i]);

/** Where one source row first differs from the sink's and Kafka's (`kafka` undefined: not read; null: no row there); undefined when all agree. */
function firstDifference(columns: string[], key: string, source: string[], sink: string[] | undefined, kafka: string[] | null | undefined): FirstDifference | undefined {
  const sides = (i: number | null) => ({
    source: i === null ? "(a row)" : showValue(source[i]!),
    sink: sink ? (i === null ? "(a row)" : showValue(sink[i]!)) : ABSENT,
    ...(kafka !== undefined ? { kafka: kafka ? (i === null ? "(a row)" : showValue(kafka[i]!)) : ABSENT } : {}),
  });
  if (!sink || kafka === null) return { key, column: null, ...sides(null) };
  const i = source.findIndex((v, n) => v !== sink[n] || (kafka && v !== kafka[n]));
  return i < 0 ? undefined : { key, column: columns[i]!, ...sides(i) };
}

/** A keyless table: every row of both sides counted by its values (and the topic's replayed rows); what one side has more of differs. */
async function compareMultisets(report: TableReport, src: Side, dst: Side, state: KafkaState | undefined): Promise<void> {
  const tally = async (side: Side) => {
    const rows: KafkaState["rows"] = new Map();
    for (const r of await side.db.select(selectAll(side))) count(rows, readRow(side, r).values, 1);
    return rows;
  };
  const ours = await tally(src);
  const theirs = await tally(dst);
  const total = (rows: KafkaState["rows"]) => [...rows.values()].reduce((n, r) => n + r.count, 0);
  report.ranges = 1;
  report.sourceRows = total(ours);
  report.sinkRows = total(theirs);
  /** Rows `a` holds more copies of than `b`, by id. */
  const surplus = (a: KafkaState["rows"], b: KafkaState["rows"]) => [...a].filter(([id, r]) => r.count > (b.get(id)?.count ?? 0)).map(([id]) => id);
  const missing = surplus(ours, theirs);
  const extra = surplus(theirs, ours);
  const kafkaMissing = state ? surplus(ours, state.rows) : [];
  const kafkaOnly = state ? surplus(state.rows, ours) : [];
  const show = (rows: KafkaState["rows"], b: KafkaState["rows"]) => (id: string) => {
    const n = rows.get(id)!.count - (b.get(id)?.count ?? 0);
    return `${rows.get(id)!.key}${n > 1 ? ` ×${n}` : ""}`;
  };
  if (state) report.kafkaOnly = kafkaOnly.map(show(state.rows, ours));
  if (missing.length + extra.length + kafkaMissing.length > 0) {
    report.diffs.push({
      from: null,
      to: null,
      sourceRows: report.sourceRows,
      sinkRows: report.sinkRows,
      missing: missing.map(show(ours, theirs)),
      extra: extra.map(show(theirs, ours)),
      different: [],
      ...(state ? { kafkaMissing: kafkaMissing.map(show(ours, state.rows)), kafkaDifferent: [] } : {}),
    });
  }
  const first = missing[0] ?? extra[0] ?? kafkaMissing[0] ?? kafkaOnly[0];
  if (first === undefined) return;
  const copies = (rows: KafkaState["rows"]) => `${rows.get(first)?.count ?? 0} row(s)`;
  const row = (ours.get(first) ?? theirs.get(first) ?? state?.rows.get(first))!;
  report.first = { key: row.key, column: null, source: copies(ours), sink: copies(theirs), ...(state ? { kafka: copies(state.rows) } : {}) };
}

/**
 * How a column's canonical values are compared, as text that is equal on both sides for equal
 * values: integers of any width alike, booleans as 1/0 (a PostgreSQL boolean lands in a MySQL
 * TINYINT(1)), a UTC timestamp as its wall-clock time (what a MySQL DATETIME holds of it), bytes as
 * hex, JSON by content (jsonb reorders keys and spaces), arrays as JSON (MySQL keeps them so).
 */
function comparer(column: MappedColumn): (value: unknown) => string {
  const type = fieldType(column.field).type;
  const json = type["connect.name"] === "io.debezium.data.Json";
  const zoned = type.logicalType === "timestamp-micros";
  return (value) => {
    if (value === null || value === undefined) return NULL;
    if (typeof value === "string") return json ? sortedJsonText(value) : zoned && value.endsWith("Z") ? value.slice(0, -1) : value;
    if (typeof value === "boolean") return value ? "1" : "0";
    if (typeof value === "number" || typeof value === "bigint") return String(value);
    if (Buffer.isBuffer(value)) return `\\x${value.toString("hex")}`;
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : Buffer.isBuffer(v) ? v.toString("hex") : v));
  };
}

/** JSON text with its keys sorted, so both sides' JSON columns compare by content. */
function sortedJsonText(text: string): string {
  try {
    return stableJson(JSON.parse(text));
  } catch {
    return text;
  }
}

function showKey(key: unknown[]): string {
  const one = (v: unknown) => (typeof v === "bigint" ? v.toString() : Buffer.isBuffer(v) ? `0x${v.toString("hex")}` : JSON.stringify(v));
  return key.length === 1 ? one(key[0]) : `(${key.map(one).join(", ")})`;
}

const showValue = (v: string) => (v === NULL ? "NULL" : JSON.stringify(v.length > SHOWN_CHARS ? `${v.slice(0, SHOWN_CHARS)}…` : v));

function showRow(values: string[]): string {
  const text = `(${values.map(showValue).join(", ")})`;
  return text.length > SHOWN_CHARS * 2 ? `${text.slice(0, SHOWN_CHARS * 2)}…)` : text;
}

function formatReports(reports: TableReport[]): string {
  const lines: string[] = [];
  const list = (label: string, keys: string[] | undefined) => (keys?.length ? [`${label} ${keys.length}: ${keys.slice(0, SHOWN_KEYS).join(", ")}${keys.length > SHOWN_KEYS ? ", …" : ""}`] : []);
  for (const r of reports) {
    const head = `${r.source} → ${r.sink}${r.topic ? ` (through ${r.topic})` : ""}`;
    if (r.error) {
      lines.push(`FAIL ${head}: ${r.error}`);
      continue;
    }
    const kafka = r.kafkaRows !== undefined ? `, ${r.kafkaRows} in Kafka` : "";
    const counts = `${r.sourceRows} rows at the source${kafka}, ${r.sinkRows} in the sink, ${r.keyless ? "no key: compared as multisets" : `${r.ranges} key range(s)`}, ${r.columns.length} column(s) compared`;
    if (!failed(r)) {
      lines.push(`ok   ${head}: ${counts}, no difference`);
      continue;
    }
    lines.push(`FAIL ${head}: ${counts}, ${r.diffs.length} range(s) differ`);
    for (const d of r.diffs) {
      const parts = [
        ...list("missing in the sink", d.missing),
        ...list("only in the sink", d.extra),
        ...list("different", d.different),
        ...list("missing in Kafka", d.kafkaMissing),
        ...list("different in Kafka", d.kafkaDifferent),
      ];
      lines.push(`     ${r.keyless ? "rows" : `keys (${d.from ?? "start"}, ${d.to ?? "end"}]`}: ${d.sourceRows} vs ${d.sinkRows} rows; ${parts.join("; ")}`);
    }
    if (r.kafkaOnly?.length) lines.push(`     ${list("only in Kafka", r.kafkaOnly).join("")}`);
    if (r.first) {
      const sides = [`source ${r.first.source}`, ...(r.first.kafka !== undefined ? [`Kafka ${r.first.kafka}`] : []), `sink ${r.first.sink}`];
      lines.push(`     first difference: ${r.keyless ? "row" : "key"} ${r.first.key}${r.first.column ? `, column ${r.first.column}` : ""}: ${sides.join(", ")}`);
    }
  }
  const bad = reports.filter(failed).length;
  lines.push(bad === 0 ? `no difference in ${reports.length} table(s)` : `${bad} of ${reports.length} table(s) differ`);
  return lines.join("\n");
}
