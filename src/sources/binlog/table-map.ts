/**
 * A table's columns as the binlog says them (the table-map event, binlog_row_metadata=FULL) and
 * as information_schema says them, brought to ONE spelling, so a snapshot row and a streamed row
 * of the same table version get the same ColumnInfo and so the same Avro schema.
 *
 * The table map is the authority on the layout of each event (names, types, lengths, signedness,
 * nullability, ENUM/SET labels, primary key): that is what makes replaying old events after a DDL
 * exact. A few facts it cannot carry come from information_schema as "overrides" kept in the
 * position (the schema history): that a binary(16) is a UUID or INET6, a binary(4) an INET4, a
 * MariaDB longtext a JSON, and literal defaults. Integer display widths ("int(11)") are not kept:
 * the binlog has none, and MySQL 8 dropped them too.
 */
import type { TableMapEvent } from "@vlasky/zongji";
import type { TableDescription } from "../../runtime/db/introspect.js";
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import { parseSqlType, quoteMysqlLabels, type ColumnInfo } from "../../runtime/sql-types/mapping.js";
import type { ColumnOverride } from "./position.js";

export interface LayoutColumn {
  name: string;
  /** In table-map spelling (see binlogSpelling). */
  sqlType: string;
  nullable: boolean;
}

export interface TableLayout {
  columns: LayoutColumn[];
  primaryKey: string[];
}

const INTEGERS = new Set(["tinyint", "smallint", "mediumint", "int", "integer", "bigint"]);
const DECIMALS = new Set(["decimal", "numeric", "dec", "fixed"]);
const FIXED_SIZE_LOGICAL: Record<string, string> = { uuid: "binary(16)", inet6: "binary(16)", inet4: "binary(4)" };

/**
 * A MySQL/MariaDB column type in the spelling zongji builds from a FULL table map: integer and
 * YEAR display widths dropped, UUID/INET as the binary(n) they are stored as, MariaDB's JSON as
 * its longtext, DECIMAL with both arguments, ENUM/SET labels re-quoted one way.
 */
export function binlogSpelling(sqlType: string, mariadb: boolean): string {
  const t = parseSqlType(sqlType, "mysql");
  const unsigned = t.unsigned ? " unsigned" : "";
  if (INTEGERS.has(t.base)) return `${t.base === "integer" ? "int" : t.base}${unsigned}`;
  if (t.base === "bool" || t.base === "boolean") return "tinyint";
  if (t.base === "year") return "year";
  if (t.base === "float") return `float${unsigned}`;
  if (t.base === "double" || t.base === "real" || t.base === "double precision") return `double${unsigned}`;
  if (DECIMALS.has(t.base)) return `decimal(${t.args[0] ?? 10},${t.args[1] ?? 0})${unsigned}`;
  if (t.base in FIXED_SIZE_LOGICAL) return FIXED_SIZE_LOGICAL[t.base]!;
  if (t.base === "json") return mariadb ? "longtext" : "json";
  if (t.base === "bit") return `bit(${t.args[0] ?? 1})`;
  if (t.base === "enum" || t.base === "set") return `${t.base}(${quoteMysqlLabels(t.args)})`;
  if (t.base === "char" || t.base === "binary") return `${t.base}(${t.args[0] ?? 1})`;
  if (["datetime", "timestamp", "time"].includes(t.base)) return t.args[0] && t.args[0] !== "0" ? `${t.base}(${t.args[0]})` : t.base;
  if (t.args.length > 0) return `${t.base}(${t.args.join(",")})`;
  return t.base;
}

/** What the layout takes of zongji's column schemas. */
export type ColumnSchema = { COLUMN_NAME: string; COLUMN_TYPE: string; ENUM_VALUES?: string[]; SET_VALUES?: string[] };

/**
 * The layout of one table-map event; `schemas` are zongji's column schemas for it. ENUM/SET labels
 * are taken as decoded from the map (exact, in the column's charset), not from zongji's
 * COLUMN_TYPE, which quotes them without escaping backslashes.
 */
export function layoutFromTableMap(event: TableMapEvent, schemas: readonly ColumnSchema[], mariadb: boolean): TableLayout {
  const nullability = event.columnNullability;
  // unpatched zongji reads the null bitmap and drops it: every column would look nullable
  if (!nullability) throw new PreconditionError(ErrorCode.PATCH_MISSING, "zongji gives table maps without column nullability: patches/@vlasky+zongji+0.9.0.patch is not applied", { fix: "run `npx patch-package`" });
  const columns = schemas.map((s, i) => ({
    name: s.COLUMN_NAME,
    sqlType: s.ENUM_VALUES ? `enum(${quoteMysqlLabels(s.ENUM_VALUES)})` : s.SET_VALUES ? `set(${quoteMysqlLabels(s.SET_VALUES)})` : binlogSpelling(s.COLUMN_TYPE, mariadb),
    nullable: nullability[i] ?? true,
  }));
  return { columns, primaryKey: (event.primaryKey ?? []).map((i) => columns[i]?.name ?? "") };
}

/** A table as information_schema describes it: its layout and what only information_schema knows. */
export function layoutFromInfoSchema(table: TableDescription, mariadb: boolean): { layout: TableLayout; overrides: Record<string, ColumnOverride> } {
  const overrides: Record<string, ColumnOverride> = {};
  const columns = table.columns.map((c) => {
    const sqlType = binlogSpelling(c.sqlType, mariadb);
    const override = overrideOf(c, sqlType);
    if (override) overrides[c.name] = override;
    return { name: c.name, sqlType, nullable: c.nullable };
  });
  return { layout: { columns, primaryKey: table.primaryKey }, overrides };
}

function overrideOf(column: ColumnInfo, spelled: string): ColumnOverride | undefined {
  const base = parseSqlType(column.sqlType, "mysql").base;
  const type = base in FIXED_SIZE_LOGICAL || (base === "json" && spelled !== "json") ? base : undefined;
  // a nullable column's Avro default is null whatever its SQL default
  const def = column.nullable ? undefined : column.defaultValue;
  if (type === undefined && def === undefined) return undefined;
  return { for: spelled, ...(type ? { type } : {}), ...(def !== undefined ? { default: def } : {}) };
}

/** The columns of a layout as the SQL type mapping takes them, with the overrides that still apply. */
export function columnsOf(layout: TableLayout, overrides: Record<string, ColumnOverride> | undefined): ColumnInfo[] {
  return layout.columns.map((c) => {
    const o = overrides?.[c.name];
    const applies = o !== undefined && o.for === c.sqlType;
    return {
      name: c.name,
      dialect: "mysql",
      sqlType: applies && o.type ? o.type : c.sqlType,
      nullable: c.nullable,
      defaultValue: applies ? o.default : undefined,
    };
  });
}

/** Overrides that still apply to a layout (a column dropped or retyped loses its own). */
export function liveOverrides(layout: TableLayout, overrides: Record<string, ColumnOverride> | undefined): Record<string, ColumnOverride> {
  const out: Record<string, ColumnOverride> = {};
  for (const c of layout.columns) {
    const o = overrides?.[c.name];
    if (o && o.for === c.sqlType) out[c.name] = o;
  }
  return out;
}

/** A string naming a table version: equal layouts and overrides give equal signatures. */
export function layoutSignature(layout: TableLayout, overrides: Record<string, ColumnOverride> | undefined): string {
  return JSON.stringify([layout, liveOverrides(layout, overrides)]);
}
