/**
 * Reads a table's columns as the mapping needs them (ColumnInfo), from information_schema on
 * MySQL/MariaDB and pg_catalog on PostgreSQL: the exact type spelling, nullability, literal
 * defaults (expressions have no Avro form and are left out), enum labels, the primary key.
 */
import type { ColumnInfo } from "../sql-types/mapping.js";
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
  SELECT c.COLUMN_NAME AS name, c.COLUMN_TYPE AS type, c.IS_NULLABLE AS nullable, c.COLUMN_DEFAULT AS def, c.EXTRA AS extra, %JSON% AS is_json
  FROM information_schema.COLUMNS c
  WHERE c.TABLE_SCHEMA = ? AND c.TABLE_NAME = ?
  ORDER BY c.ORDINAL_POSITION`;

/** MariaDB's JSON is a LONGTEXT with this check; MySQL has a real json type. */
const MARIADB_IS_JSON = `EXISTS (SELECT 1 FROM information_schema.CHECK_CONSTRAINTS k
  WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME
    AND k.CHECK_CLAUSE = CONCAT('json_valid(\`', c.COLUMN_NAME, '\`)'))`;

const MYSQL_PRIMARY_KEY = `
  SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
  WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'
  ORDER BY ORDINAL_POSITION`;

export async function describeMysqlTable(db: MysqlQueryable, database: string, table: string): Promise<TableDescription> {
  const [versionRows] = await db.query("SELECT VERSION() AS v");
  const version = (versionRows as Row[])[0]?.v;
  const mariadb = typeof version === "string" && version.includes("MariaDB");
  const [columns] = await db.query(MYSQL_COLUMNS.replace("%JSON%", mariadb ? MARIADB_IS_JSON : "0"), [database, table]);
  const [keys] = await db.query(MYSQL_PRIMARY_KEY, [database, table]);
  return {
    columns: (columns as Row[]).map((c) => ({
      name: String(c.name),
      dialect: "mysql",
      sqlType: Number(c.is_json) ? "json" : String(c.type),
      nullable: c.nullable === "YES",
      defaultValue: mysqlDefault(c.def as string | null, typeof c.extra === "string" ? c.extra : "", mariadb),
    })),
    primaryKey: (keys as Row[]).map((k) => String(k.name)),
  };
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

const PG_COLUMNS = `
  SELECT a.attname AS name,
         CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE format_type(a.atttypid, a.atttypmod) END AS type,
         NOT a.attnotnull AS nullable,
         pg_get_expr(d.adbin, d.adrelid) AS def,
         (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
           WHERE e.enumtypid = CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END) AS enum_values
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum`;

const PG_PRIMARY_KEY = `
  SELECT a.attname AS name
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
  WHERE i.indisprimary AND n.nspname = $1 AND c.relname = $2
  ORDER BY k.ord`;

export async function describePgTable(db: PgQueryable, schema: string, table: string): Promise<TableDescription> {
  const { rows } = await db.query(PG_COLUMNS, [schema, table]);
  const { rows: keys } = await db.query(PG_PRIMARY_KEY, [schema, table]);
  return {
    columns: (rows as Row[]).map((c) => {
      const labels = c.enum_values;
      return {
        name: String(c.name),
        dialect: "postgres",
        sqlType: String(c.type),
        // booleans and arrays arrive as text from a client with PG_READ_OPTIONS, parsed otherwise
        nullable: c.nullable === true || c.nullable === "t",
        defaultValue: pgDefault(c.def as string | null),
        enumValues: labels === null || labels === undefined ? undefined : typeof labels === "string" ? (parsePgArray(labels) as string[]) : (labels as string[]),
      };
    }),
    primaryKey: (keys as Row[]).map((k) => String(k.name)),
  };
}

/** pg_get_expr spells literals as 'text'::type, bare numbers, true/false; anything else is an expression. */
function pgDefault(def: string | null): string | undefined {
  if (def === null) return undefined;
  const quoted = /^'((?:[^']|'')*)'::[\w\s."[\]()]+$/s.exec(def);
  if (quoted) return quoted[1]!.replace(/''/g, "'");
  return /^-?\d+(\.\d+)?$/.test(def) || def === "true" || def === "false" ? def : undefined;
}
