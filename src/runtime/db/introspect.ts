/**
 * Reads a table's columns as the mapping needs them (ColumnInfo), from information_schema on
 * MySQL/MariaDB and pg_catalog on PostgreSQL: the exact type spelling, nullability, literal
 * defaults (expressions have no Avro form and are left out), enum labels, the primary key.
 */
import { ErrorCode, PreconditionError } from "../errors.js";
import { parseSqlType, quoteMysqlLabels, type ColumnInfo } from "../sql-types/mapping.js";
import { quoteMysql, quotePg, type TableName } from "./identifiers.js";
import { parsePgArray } from "../sql-types/driver-values.js";

export interface TableDescription {
  columns: ColumnInfo[];
  /** Primary key columns in key order; empty without a primary key. */
  primaryKey: string[];
}

/** mysql2/promise connections and pools. */
export interface MysqlQueryable {
  query(sql: string, values?: unknown[]): Promise<[unknown, unknown]>;
}

/** pg clients and pools. */
export interface PgQueryable {
  query(sql: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

type Row = Record<string, unknown>;

const MYSQL_COLUMNS = `
  SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS def, EXTRA AS extra
  FROM information_schema.COLUMNS
  WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
  ORDER BY ORDINAL_POSITION`;

/**
 * MariaDB's JSON is a LONGTEXT with the check `json_valid(\`column\`)`; MySQL has a real json type.
 * Read in a query of its own: asked as a subquery of the columns' query, correlated per column,
 * it crashed a MariaDB 10.11.19 once (signal 11 in ha_maria::drop_table, dropping one of the
 * temporary tables information_schema is read into), in a test run here.
 */
const MARIADB_CHECKS = `
  SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS
  WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`;

const MYSQL_PRIMARY_KEY = `
  SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
  WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'
  ORDER BY ORDINAL_POSITION`;

export async function describeMysqlTable(db: MysqlQueryable, database: string, table: string): Promise<TableDescription> {
  const [versionRows] = await db.query("SELECT VERSION() AS v");
  const version = (versionRows as Row[])[0]?.v;
  const mariadb = typeof version === "string" && version.includes("MariaDB");
  const [columns] = await db.query(MYSQL_COLUMNS, [database, table]);
  const [keys] = await db.query(MYSQL_PRIMARY_KEY, [database, table]);
  const checks = mariadb ? new Set(((await db.query(MARIADB_CHECKS, [database, table]))[0] as Row[]).map((r) => String(r.clause))) : new Set<string>();
  const out: ColumnInfo[] = [];
  for (const c of columns as Row[]) {
    const name = String(c.name);
    out.push({
      name,
      dialect: "mysql",
      sqlType: checks.has(`json_valid(\`${name}\`)`) ? "json" : await exactLabels(db, mariadb, { database, table, column: name }, String(c.type)),
      nullable: c.nullable === "YES",
      defaultValue: mysqlDefault(c.def as string | null, typeof c.extra === "string" ? c.extra : "", mariadb),
    });
  }
  return { columns: out, primaryKey: (keys as Row[]).map((k) => String(k.name)) };
}

/**
 * An ENUM or SET type with its exact labels. information_schema (and SHOW CREATE TABLE) write a
 * column type in utf8mb3, so each 4-byte character of a label (an emoji, a CJK extension
 * character) shows as '?': a target created from that spelling gets a real '?' label, and the
 * labels do not match the table map's. Where a label shows a '?', the labels are read again by
 * a recursive query whose first row takes the column itself (from a join that reads no row): its
 * result column has the column's own type, so each index stored into it (a SET: each bit) reads
 * back as its label, exactly, converted to utf8mb4. It reads no row and writes nothing, so the
 * SELECT privilege every reader has is enough. (The binlog's table map carries the labels too,
 * exactly, but only for tables that change; Debezium takes them from SHOW CREATE TABLE.)
 */
async function exactLabels(db: MysqlQueryable, mariadb: boolean, { database, table, column }: { database: string; table: string; column: string }, type: string): Promise<string> {
  const t = parseSqlType(type, "mysql");
  if ((t.base !== "enum" && t.base !== "set") || !t.args.some((l) => l.includes("?"))) return type;
  const next = t.base === "set" ? "1 << r.n" : "r.n + 1";
  const n = t.args.length;
  // a recursion stops at 1,000 rows by default; an ENUM may have 65,535 labels (MySQL: up to 1,000)
  const sql = `${mariadb ? `SET STATEMENT max_recursive_iterations = ${n + 1} FOR ` : ""}
    WITH RECURSIVE r (v, n) AS (
      SELECT c.${quoteMysql(column)}, 0 FROM (SELECT 1) AS one LEFT JOIN ${quoteMysql(database)}.${quoteMysql(table)} AS c ON FALSE
      UNION ALL SELECT ${next}, r.n + 1 FROM r WHERE r.n < ${n})
    SELECT HEX(CONVERT(v USING utf8mb4)) AS label FROM r WHERE n > 0 ORDER BY n`;
  let labels: string[] | undefined;
  try {
    const [rows] = await db.query(sql);
    labels = (rows as Row[]).map((row) => Buffer.from(String(row.label), "hex").toString("utf8"));
  } catch {
    labels = undefined;
  }
  // each label must be the one shown, but for its 4-byte characters
  const shown = (label: string) => label.replace(/[\u{10000}-\u{10FFFF}]/gu, "?");
  if (!labels || labels.length !== n || labels.some((l, i) => shown(l) !== t.args[i])) {
    throw new PreconditionError(
      ErrorCode.SCHEMA_LABELS_UNREADABLE,
      `column ${database}.${table}.${column} is ${type}: information_schema shows 4-byte characters of its labels as '?', and reading the exact labels failed`,
      { fix: "use MariaDB 10.2.2+ or MySQL 8.0+ and GRANT SELECT on the table (the labels are read by a recursive query), or exclude the column" },
    );
  }
  return `${t.base}(${quoteMysqlLabels(labels)})`;
}

/**
 * MariaDB (10.2.7+) spells defaults as SQL: 'text' quoted, NULL, numbers bare, expressions such as
 * current_timestamp(). MySQL gives the bare literal and flags expressions DEFAULT_GENERATED.
 */
function mysqlDefault(def: string | null, extra: string, mariadb: boolean): string | undefined {
  if (def === null) return undefined;
  if (!mariadb) return /DEFAULT_GENERATED/i.test(extra) ? undefined : def;
  if (def === "NULL") return undefined;
  const quoted = /^'((?:[^']|'')*)'$/s.exec(def);
  if (quoted) return quoted[1]!.replace(/''/g, "'").replace(/\\\\/g, "\\");
  return /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(def) ? def : undefined;
}

/**
 * A type's spelling (a domain as its base type) and, for an enum or an array of one, its labels:
 * `t` is the pg_type row, `oid` and `typmod` the type and modifier as used.
 */
const pgTypeColumns = (oid: string, typmod: string) => `
  CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE format_type(${oid}, ${typmod}) END AS type,
  (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
    WHERE e.enumtypid = CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END) AS enum_values`;

const PG_COLUMNS = `
  SELECT a.attname AS name, NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS def,
  ${pgTypeColumns("a.atttypid", "a.atttypmod")}
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum`;

export async function describePgTable(db: PgQueryable, schema: string, table: string): Promise<TableDescription> {
  const { rows } = await db.query(PG_COLUMNS, [schema, table]);
  const primary = (await pgIndexes(db, schema, table)).find((i) => i.primary);
  return {
    columns: (rows as Row[]).map((c) => ({
      name: String(c.name),
      dialect: "postgres",
      sqlType: String(c.type),
      nullable: isTrue(c.nullable),
      defaultValue: pgDefault(c.def as string | null),
      enumValues: enumLabels(c.enum_values),
    })),
    primaryKey: primary?.columns ?? [],
  };
}

/** pg_get_expr spells literals as 'text'::type, bare numbers, true/false; anything else is an expression. */
function pgDefault(def: string | null): string | undefined {
  if (def === null) return undefined;
  const quoted = /^'((?:[^']|'')*)'::[\w\s."[\]()]+$/s.exec(def);
  if (quoted) return quoted[1]!.replace(/''/g, "'");
  return /^-?\d+(\.\d+)?$/.test(def) || def === "true" || def === "false" ? def : undefined;
}

// booleans and arrays arrive as text from a client with PG_READ_OPTIONS, parsed otherwise
const isTrue = (value: unknown): boolean => value === true || value === "t" || value === 1 || value === "1";
const enumLabels = (labels: unknown): string[] | undefined =>
  labels === null || labels === undefined ? undefined : typeof labels === "string" ? (parsePgArray(labels) as string[]) : (labels as string[]);

/** A type as a result column or a replication message names it: its oid and modifier. */
export interface PgTypeRef {
  oid: number;
  typmod: number;
}

/** Each type's spelling as describePgTable would give it for a column of that type, and its enum labels. */
export async function describePgTypes(db: PgQueryable, types: readonly PgTypeRef[]): Promise<{ sqlType: string; enumValues: string[] | undefined }[]> {
  if (types.length === 0) return [];
  const { rows } = await db.query(
    `SELECT u.i::text AS i, ${pgTypeColumns("u.oid", "u.typmod")}
     FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS u(oid, typmod, i) JOIN pg_type t ON t.oid = u.oid`,
    [`{${types.map((t) => t.oid).join(",")}}`, `{${types.map((t) => t.typmod).join(",")}}`],
  );
  const byIndex = new Map((rows as Row[]).map((r) => [String(r.i), r]));
  return types.map((_, i) => {
    const row = byIndex.get(String(i + 1));
    return { sqlType: typeof row?.type === "string" ? row.type : "unknown", enumValues: enumLabels(row?.enum_values) };
  });
}

/** An index of a table, its columns in index order. */
export interface TableIndex {
  name: string;
  primary: boolean;
  /** Unique over every row: a partial unique index (PostgreSQL's WHERE) is not. */
  unique: boolean;
  columns: string[];
}

function groupIndexes(rows: Row[]): TableIndex[] {
  const byName = new Map<string, TableIndex>();
  for (const r of rows) {
    const name = String(r.name);
    let index = byName.get(name);
    if (!index) byName.set(name, (index = { name, primary: isTrue(r.is_primary), unique: isTrue(r.is_unique), columns: [] }));
    index.columns.push(String(r.col));
  }
  return [...byName.values()];
}

const MYSQL_INDEXES = `
  SELECT INDEX_NAME AS name, COLUMN_NAME AS col, INDEX_NAME = 'PRIMARY' AS is_primary, NON_UNIQUE = 0 AS is_unique
  FROM information_schema.STATISTICS
  WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
  ORDER BY INDEX_NAME, SEQ_IN_INDEX`;

export async function mysqlIndexes(db: MysqlQueryable, database: string, table: string): Promise<TableIndex[]> {
  const [rows] = await db.query(MYSQL_INDEXES, [database, table]);
  return groupIndexes(rows as Row[]);
}

const PG_INDEXES = `
  SELECT i.indexrelid::regclass::text AS name, a.attname AS col, i.indisprimary AS is_primary, i.indisunique AND i.indpred IS NULL AS is_unique
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
  WHERE n.nspname = $1 AND c.relname = $2
  ORDER BY name, k.ord`;

export async function pgIndexes(db: PgQueryable, schema: string, table: string): Promise<TableIndex[]> {
  const { rows } = await db.query(PG_INDEXES, [schema, table]);
  return groupIndexes(rows as Row[]);
}

/** The server's guess of a table's size (statistics, not a count): for progress and a first read's size, never for correctness. */
export interface TableEstimate {
  rows: number;
  /** Average bytes of a row; 0 where the server does not say. */
  rowBytes: number;
}

export async function estimateMysqlTable(db: MysqlQueryable, database: string, table: string): Promise<TableEstimate> {
  const [rows] = await db.query("SELECT TABLE_ROWS AS n, AVG_ROW_LENGTH AS len FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", [database, table]);
  const row = (rows as Row[])[0];
  return { rows: Number(row?.n ?? 0), rowBytes: Number(row?.len ?? 0) };
}

/** reltuples (-1 before the first VACUUM or ANALYZE in PostgreSQL 14+: 0 here), and the table's pages over it for a row's size. */
export async function estimatePgTable(db: PgQueryable, schema: string, table: string): Promise<TableEstimate> {
  const { rows } = await db.query(
    `SELECT greatest(reltuples, 0)::bigint AS n, CASE WHEN reltuples > 0 THEN (pg_relation_size(oid) / reltuples)::bigint ELSE 0 END AS bytes
     FROM pg_class WHERE oid = to_regclass(format('%I.%I', $1::text, $2::text))`,
    [schema, table],
  );
  const row = (rows as Row[])[0];
  return { rows: Number(row?.n ?? 0), rowBytes: Number(row?.bytes ?? 0) };
}

/** MIN and MAX of an integer column (two index dives on a key), or undefined when it holds other values or the table is empty. */
export async function pgIntegerRange(db: PgQueryable, schema: string, table: string, column: string): Promise<{ min: number; max: number } | undefined> {
  const from = `${quotePg(schema)}.${quotePg(table)}`;
  const { rows: types } = await db.query("SELECT format_type(atttypid, NULL) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2", [from, column]);
  const type = (types as Row[])[0]?.type;
  if (typeof type !== "string" || !/^(smallint|integer|bigint)$/.test(type)) return undefined;
  const { rows } = await db.query(`SELECT min(${quotePg(column)})::text AS lo, max(${quotePg(column)})::text AS hi FROM ${from}`);
  const row = (rows as Row[])[0];
  if (row?.lo === null || row?.lo === undefined || row.hi === null) return undefined;
  return { min: Number(row.lo), max: Number(row.hi) };
}

/** MySQL's own databases: never user data to read or compare. */
export const MYSQL_SYSTEM_DATABASES: ReadonlySet<string> = new Set(["mysql", "information_schema", "performance_schema", "sys"]);

/** The base tables (no views) of every user database, sorted by database and table. */
export async function listMysqlTables(db: MysqlQueryable): Promise<TableName[]> {
  const [rows] = await db.query(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES
     WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (${[...MYSQL_SYSTEM_DATABASES].map(() => "?").join(", ")}) ORDER BY 1, 2`,
    [...MYSQL_SYSTEM_DATABASES],
  );
  return (rows as Row[]).map((r) => ({ schema: String(r.db), table: String(r.t) }));
}

/**
 * The base tables without a primary key. KEY_COLUMN_USAGE, as describeMysqlTable reads keys: MariaDB
 * 10.11 shows a user with only the documented grants nothing in TABLE_CONSTRAINTS, so every table
 * would look keyless there.
 */
export async function listKeylessMysqlTables(db: MysqlQueryable): Promise<TableName[]> {
  const [rows] = await db.query(
    `SELECT t.TABLE_SCHEMA AS db, t.TABLE_NAME AS t FROM information_schema.TABLES t
     WHERE t.TABLE_TYPE = 'BASE TABLE' AND NOT EXISTS (SELECT 1 FROM information_schema.KEY_COLUMN_USAGE k
       WHERE k.TABLE_SCHEMA = t.TABLE_SCHEMA AND k.TABLE_NAME = t.TABLE_NAME AND k.CONSTRAINT_NAME = 'PRIMARY')`,
  );
  return (rows as Row[]).map((r) => ({ schema: String(r.db), table: String(r.t) }));
}

/** The tables (plain and partitioned, no views) of every user schema of the database, sorted by schema and table. */
export async function listPgTables(db: PgQueryable): Promise<TableName[]> {
  const { rows } = await db.query(
    `SELECT n.nspname AS s, c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
     ORDER BY 1, 2`,
  );
  return (rows as Row[]).map((r) => ({ schema: String(r.s), table: String(r.t) }));
}
