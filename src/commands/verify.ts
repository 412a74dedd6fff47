/**
 * `liberator verify --source A --sink B`: does the sink's table hold what the source's table
 * holds? Both are read in key order, chunk by chunk over the source's primary-key ranges, every
 * value in its canonical form (the SQL type mapping of each side's own column types), so a
 * MariaDB DATETIME(6) and a PostgreSQL timestamp, or DECIMAL and numeric, compare equal when they
 * hold the same value. Prints row counts and the key ranges that differ; exit 1 on a difference.
 */
import { createHash } from "node:crypto";
import type { DatabaseConnection } from "../runtime/config/fields.js";
import type { ConnectorConfig } from "../runtime/config/load.js";
import { ConfigError, toLiberatorError } from "../runtime/errors.js";
import { mapColumn, type Dialect, type MappedColumn } from "../runtime/sql-types/mapping.js";
import { fieldType, toSqlParam } from "../runtime/sql-types/to-sql.js";
import type { SqlSinkConfig } from "../sinks/sql/config.js";
import { createTarget } from "../sinks/sql/sql-sink.js";
import { tableRefOf, resolveTable } from "../sinks/sql/table-name.js";
import type { SqlTarget, TableRef, TargetTable } from "../sinks/sql/target.js";
import { EXIT, loadOrExit } from "./load.js";
import { quoteIdentifier } from "../runtime/db/identifiers.js";
import { stableJson } from "../runtime/json.js";

export interface VerifyOptions {
  source: string;
  sink: string;
  /** "db.table" (or "schema.table"); every table of the source connector when empty. */
  table?: string[];
  /** Rows per compared key range. */
  chunk?: number;
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
}

export interface TableReport {
  source: string;
  sink: string;
  sourceRows: number;
  sinkRows: number;
  columns: string[];
  ranges: number;
  diffs: RangeDiff[];
  /** Set when the table could not be compared at all. */
  error?: string;
}

const SHOWN_KEYS = 5;
const NULL = "\u0000";

export interface SourceSide {
  dialect: Dialect;
  connection: DatabaseConnection;
  topicPrefix: string;
  /** Tables named in the config (query source), or include/exclude patterns (binlog source). */
  tables: string[];
  include?: string[] | undefined;
  exclude?: string[] | undefined;
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
  try {
    const sinkConnector = find(options.sink, "sink");
    if (sinkConnector.type !== "sql") throw new ConfigError([`--sink ${options.sink}: verify compares tables, and "${options.sink}" is a ${sinkConnector.type} sink`]);
    const source = sourceSide(find(options.source, "source"));
    const sinkConfig = sinkConnector.config as unknown as SqlSinkConfig;
    const reports = await verifyTables(source, sinkConfig, options);
    process.stdout.write(`${formatReports(reports)}\n`);
    return reports.some((r) => r.error !== undefined || r.diffs.length > 0) ? EXIT.failed : EXIT.ok;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.problems.join("\n")}\n`);
      return EXIT.config;
    }
    process.stderr.write(`verify failed: ${toLiberatorError(err).describe()}\n`);
    return EXIT.failed;
  }
}

/**
 * What verify needs from a source connector's config: its database, its tables and their topic
 * prefix. The binlog source names tables by include/exclude patterns and per-table settings, the
 * query source by a `tables` list; both keep `connection` and `topicPrefix`.
 */
export function sourceSide(c: ConnectorConfig): SourceSide {
  const cfg = c.config as Record<string, unknown>;
  const connection = cfg.connection as (DatabaseConnection & { port?: number }) | undefined;
  if (!connection) throw new ConfigError([`--source ${c.name}: a ${c.type} source has no database connection to compare`]);
  const dialect: Dialect = cfg.dialect === "postgres" ? "postgres" : "mysql";
  const perTable = (typeof cfg.tables === "object" && cfg.tables !== null && !Array.isArray(cfg.tables) ? cfg.tables : {}) as Record<string, { keyColumns?: string[]; columns?: Record<string, string[] | undefined> }>;
  const listed = Array.isArray(cfg.tables) ? (cfg.tables as (string | { name: string; keyColumns?: string[] })[]) : [];
  const entry = (t: string) => listed.find((e) => typeof e !== "string" && e.name === t) as { keyColumns?: string[] } | undefined;
  return {
    dialect,
    connection: { ...connection, port: connection.port ?? (dialect === "postgres" ? 5432 : 3306) },
    topicPrefix: typeof cfg.topicPrefix === "string" ? cfg.topicPrefix : c.name,
    tables: [...listed.map((e) => (typeof e === "string" ? e : e.name)), ...Object.keys(perTable)],
    hidden: (t) => new Set([...(perTable[t]?.columns?.mask ?? []), ...(perTable[t]?.columns?.hash ?? [])]),
    keyColumns: (t) => perTable[t]?.keyColumns ?? entry(t)?.keyColumns,
    include: Array.isArray(cfg.include) ? (cfg.include as string[]) : undefined,
    exclude: Array.isArray(cfg.exclude) ? (cfg.exclude as string[]) : undefined,
  };
}

export async function verifyTables(source: SourceSide, sink: SqlSinkConfig, options: Pick<VerifyOptions, "table" | "chunk">): Promise<TableReport[]> {
  const from = createTarget(source.dialect, source.connection, "verify");
  const to = createTarget(sink.dialect, sink.connection, "verify");
  await Promise.all([from.connect(), to.connect()]);
  try {
    const tables = options.table?.length ? options.table : source.include ? await matchingTables(from, source.include, source.exclude ?? []) : source.tables;
    if (tables.length === 0) throw new ConfigError([`the source names no table to compare: give --table db.table`]);
    const reports: TableReport[] = [];
    for (const name of tables) {
      const ref = qualified(name, source);
      const topic = `${source.topicPrefix}.${ref.schema ?? ""}.${ref.name}`;
      const target = resolveTable(sink.table, topic, { db: ref.schema, table: ref.name });
      reports.push(await verifyTable(from, ref, to, target, source, options.chunk ?? 10_000));
    }
    return reports;
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
}

/** A bare table name is in the connection's database (MySQL) or the public schema (PostgreSQL), as the sources read it. */
function qualified(name: string, source: SourceSide): TableRef {
  const ref = tableRefOf(name);
  return ref.schema ? ref : { schema: source.dialect === "postgres" ? "public" : source.connection.database, name: ref.name };
}

/** Tables on a MySQL/MariaDB server matching "db.table" patterns with * and ?. */
async function matchingTables(target: SqlTarget, include: string[], exclude: string[]): Promise<string[]> {
  const regex = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
  const [inc, exc] = [include.map(regex), exclude.map(regex)];
  const rows = await target.query(
    "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1, 2",
  );
  return rows.map((r) => `${String(r.db)}.${String(r.t)}`).filter((n) => inc.some((r) => r.test(n)) && !exc.some((r) => r.test(n)));
}

interface Side {
  target: SqlTarget;
  table: TargetTable;
  /** The compared columns as this side's own types map them. */
  columns: MappedColumn[];
  compare: ((value: unknown) => string)[];
  key: MappedColumn[];
}

async function verifyTable(from: SqlTarget, fromRef: TableRef, to: SqlTarget, toRef: TableRef, source: SourceSide, chunk: number): Promise<TableReport> {
  const report: TableReport = { source: from.quoteTable(fromRef), sink: to.quoteTable(toRef), sourceRows: 0, sinkRows: 0, columns: [], ranges: 0, diffs: [] };
  const [a, b] = await Promise.all([from.describe(fromRef), to.describe(toRef)]);
  if (!a) return { ...report, error: `the source table ${report.source} does not exist` };
  if (!b) return { ...report, error: `the sink table ${report.sink} does not exist` };
  const hidden = source.hidden(`${fromRef.schema ?? ""}.${fromRef.name}`);
  const names = a.columns.map((c) => c.name).filter((n) => !hidden.has(n) && b.columns.some((c) => c.name === n));
  const keyNames = a.primaryKey.length > 0 ? a.primaryKey : (source.keyColumns(`${fromRef.schema ?? ""}.${fromRef.name}`) ?? []);
  const missingKey = keyNames.filter((k) => !names.includes(k));
  if (keyNames.length === 0 || missingKey.length > 0) {
    return { ...report, error: `no key to compare by: ${report.source} has ${keyNames.length === 0 ? "no primary key and no keyColumns" : `key columns ${missingKey.join(", ")} the sink table lacks`}` };
  }
  const side = (target: SqlTarget, table: TargetTable): Side => {
    const columns = names.map((n) => mapColumn(table.columns.find((c) => c.name === n)!));
    return { target, table, columns, compare: columns.map(comparer), key: keyNames.map((k) => columns[names.indexOf(k)]!) };
  };
  const src = side(from, a);
  const dst = side(to, b);
  report.columns = names;
  let lo: unknown[] | undefined;
  for (;;) {
    const sourceRows = await readRange(src, src, lo, undefined, chunk);
    const hi = sourceRows.length === chunk ? sourceRows[sourceRows.length - 1]!.key : undefined;
    const sinkRows = await readRange(dst, src, lo, hi, undefined);
    report.ranges++;
    report.sourceRows += sourceRows.length;
    report.sinkRows += sinkRows.length;
    const diff = compare(sourceRows, sinkRows);
    if (diff.missing.length + diff.extra.length + diff.different.length > 0) {
      report.diffs.push({ from: lo ? showKey(lo) : null, to: hi ? showKey(hi) : null, sourceRows: sourceRows.length, sinkRows: sinkRows.length, ...diff });
    }
    if (!hi) return report;
    lo = hi;
  }
}

interface ReadRow {
  /** Canonical key values (the source's field types). */
  key: unknown[];
  id: string;
  digest: string;
}

/**
 * Rows of (lo, hi] in key order (`hi` undefined: to the end), at most `limit`. Bounds are
 * canonical values of the source's key, written as parameters of this side's dialect; text keys
 * compare in binary order on both sides, so both databases cut ranges at the same rows.
 */
async function readRange(side: Side, keyTypes: Side, lo: unknown[] | undefined, hi: unknown[] | undefined, limit: number | undefined): Promise<ReadRow[]> {
  const { target } = side;
  const postgres = target.dialect === "postgres";
  const quote = (c: string) => quoteIdentifier(c, target.dialect);
  const ordered = side.key.map((k) => {
    const textual = /char|text|enum|set/i.test(side.table.columns.find((c) => c.name === k.column)!.sqlType);
    return textual ? (postgres ? `${quote(k.column)} COLLATE "C"` : `BINARY ${quote(k.column)}`) : quote(k.column);
  });
  const tuple = ordered.length === 1 ? ordered[0]! : `(${ordered.join(", ")})`;
  const bound = (values: unknown[]) => {
    const ps = values.map((v, i) => toSqlParam(v, keyTypes.key[i]!.field, target.dialect));
    params.push(...ps);
    return ps.length === 1 ? "?" : `(${ps.map(() => "?").join(", ")})`;
  };
  const params: unknown[] = [];
  const where: string[] = [];
  if (lo) where.push(`${tuple} > ${bound(lo)}`);
  if (hi) where.push(`${tuple} <= ${bound(hi)}`);
  const sql =
    `SELECT ${side.columns.map((c) => `${c.select(quote(c.column))} AS ${quote(c.column)}`).join(", ")} FROM ${target.quoteTable(side.table.ref)}` +
    `${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY ${ordered.join(", ")}${limit ? ` LIMIT ${limit}` : ""}`;
  const rows = await target.query(target.placeholders(sql), params);
  return rows.map((r) => {
    const values = side.columns.map((c, i) => side.compare[i]!(c.fromDriver(r[c.column])));
    const key = side.key.map((k) => k.fromDriver(r[k.column]));
    return { key, id: side.key.map((k) => values[side.columns.indexOf(k)]!).join(NULL), digest: createHash("sha1").update(values.join(NULL)).digest("base64") };
  });
}

function compare(source: ReadRow[], sink: ReadRow[]): Pick<RangeDiff, "missing" | "extra" | "different"> {
  const theirs = new Map(sink.map((r) => [r.id, r]));
  const missing: string[] = [];
  const different: string[] = [];
  for (const r of source) {
    const other = theirs.get(r.id);
    if (!other) missing.push(showKey(r.key));
    else if (other.digest !== r.digest) different.push(showKey(r.key));
    theirs.delete(r.id);
  }
  return { missing, extra: [...theirs.values()].map((r) => showKey(r.key)), different };
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

function formatReports(reports: TableReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    const head = `${r.source} → ${r.sink}`;
    if (r.error) {
      lines.push(`FAIL ${head}: ${r.error}`);
      continue;
    }
    const counts = `${r.sourceRows} rows at the source, ${r.sinkRows} in the sink, ${r.ranges} key range(s), ${r.columns.length} column(s) compared`;
    if (r.diffs.length === 0) {
      lines.push(`ok   ${head}: ${counts}, no difference`);
      continue;
    }
    lines.push(`FAIL ${head}: ${counts}, ${r.diffs.length} range(s) differ`);
    for (const d of r.diffs) {
      const keys = (label: string, list: string[]) => (list.length ? [`${label} ${list.length}: ${list.slice(0, SHOWN_KEYS).join(", ")}${list.length > SHOWN_KEYS ? ", …" : ""}`] : []);
      const parts = [...keys("missing in the sink", d.missing), ...keys("only in the sink", d.extra), ...keys("different", d.different)];
      lines.push(`     keys (${d.from ?? "start"}, ${d.to ?? "end"}]: ${d.sourceRows} vs ${d.sinkRows} rows; ${parts.join("; ")}`);
    }
  }
  const failed = reports.filter((r) => r.error !== undefined || r.diffs.length > 0).length;
  lines.push(failed === 0 ? `no difference in ${reports.length} table(s)` : `${failed} of ${reports.length} table(s) differ`);
  return lines.join("\n");
}
