/**
 * Each captured table's schema versions. A version is the table's columns as a relation message
 * says them (names, type oids and modifiers, in the order of the row tuples), or as the catalog
 * says them for snapshot reads; both go through format_type(), so a snapshot row and a streamed
 * row of one table version get the same Avro schema. What a relation message cannot say
 * (nullability, literal defaults, enum labels, the primary key) comes from the catalog.
 * Before the first record of a version is produced, the registry's compatibility rule is asked
 * (ctx.schemas.check): an incompatible change stops the connector at that transaction.
 */
import type { SourceContext } from "../../runtime/connector.js";
import { describePgTable, describePgTypes, type PgQueryable } from "../../runtime/db/introspect.js";
import { patternFilter, type TableFilter } from "../../runtime/db/table-filter.js";
import { tableStream, type TableStream } from "../../runtime/sql-types/envelope.js";
import type { ColumnInfo } from "../../runtime/sql-types/mapping.js";
import type { PgcdcConfig } from "./config.js";
import type { Relation } from "./pgoutput.js";

/** One version of one captured table. */
export interface CapturedTable {
  /** "schema.table" */
  name: string;
  schema: string;
  table: string;
  /** Column names in the order of the row tuples. */
  columns: string[];
  primaryKey: string[];
  stream: TableStream;
}

const SYSTEM_SCHEMAS = new Set(["pg_catalog", "information_schema", "pg_toast"]);
const TOPIC_UNSAFE = /[^A-Za-z0-9._-]/g;

export function pgTableFilter(config: Pick<PgcdcConfig, "include" | "exclude">): TableFilter {
  return patternFilter(config.include, config.exclude, SYSTEM_SCHEMAS);
}

/** "schema.table" → [schema, table]; the first dot separates them. */
export function splitName(name: string): [string, string] {
  const i = name.indexOf(".");
  return [name.slice(0, i), name.slice(i + 1)];
}

/** The ordinary and partitioned tables the filter captures, as "schema.table", sorted. */
export async function capturedTables(db: PgQueryable, filter: TableFilter): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT n.nspname AS schema, c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1, 2`,
  );
  return (rows as { schema: string; table: string }[]).filter((r) => filter.captures(r.schema, r.table)).map((r) => `${r.schema}.${r.table}`);
}

export function topicOf(config: Pick<PgcdcConfig, "topicPrefix" | "name">, schema: string, table: string): string {
  const prefix = config.topicPrefix ?? config.name;
  return `${prefix}.${schema.replace(TOPIC_UNSAFE, "_")}.${table.replace(TOPIC_UNSAFE, "_")}`;
}

export function streamOf(config: PgcdcConfig, schema: string, table: string, columns: readonly ColumnInfo[], primaryKey: readonly string[]): TableStream {
  const settings = config.tables[`${schema}.${table}`];
  return tableStream(
    { columns, primaryKey },
    {
      topic: topicOf(config, schema, table),
      table: `${schema}.${table}`,
      ...(settings?.keyColumns ? { keyColumns: settings.keyColumns } : {}),
      ...(settings?.columns ? { columns: settings.columns } : {}),
      ...(config.hashKey ? { hashKey: config.hashKey } : {}),
    },
  );
}

export class TableVersions {
  private readonly versions = new Map<string, CapturedTable>();
  private readonly checked = new WeakSet<TableStream>();

  constructor(
    private readonly config: PgcdcConfig,
    private readonly ctx: Pick<SourceContext, "log" | "schemas">,
  ) {}

  /** The table as the catalog describes it now (snapshot reads); undefined when it is gone. */
  async describe(db: PgQueryable, name: string): Promise<CapturedTable | undefined> {
    const [schema, table] = splitName(name);
    const d = await describePgTable(db, schema, table);
    if (d.columns.length === 0) return undefined;
    return this.version(name, schema, table, d.columns, d.primaryKey);
  }

  /** The version a relation message describes: its columns and types, the catalog's nullability and key. */
  async fromRelation(db: PgQueryable, relation: Relation): Promise<CapturedTable> {
    const name = `${relation.schema}.${relation.table}`;
    const now = await describePgTable(db, relation.schema, relation.table);
    const types = await describePgTypes(db, relation.columns.map((c) => ({ oid: c.typeOid, typmod: c.typmod })));
    const columns: ColumnInfo[] = relation.columns.map((c, i) => {
      const there = now.columns.find((x) => x.name === c.name);
      const type = types[i];
      const sqlType = type?.sqlType ?? there?.sqlType ?? "text";
      // a column the catalog types differently now (a later ALTER): nothing of its present state applies
      const same = there !== undefined && there.sqlType === sqlType;
      return { name: c.name, dialect: "postgres", sqlType, nullable: same ? there.nullable : true, defaultValue: same ? there.defaultValue : undefined, enumValues: type?.enumValues };
    });
    const names = new Set(columns.map((c) => c.name));
    const primaryKey = now.primaryKey.every((k) => names.has(k)) ? now.primaryKey : [];
    return this.version(name, relation.schema, relation.table, columns, primaryKey);
  }

  /** The compatibility gate, once per version: throws SchemaIncompatibleError naming the field and rule. */
  async check(t: CapturedTable): Promise<void> {
    if (this.checked.has(t.stream)) return;
    if (t.stream.keySchema) await this.ctx.schemas.check(`${t.stream.topic}-key`, t.stream.keySchema);
    await this.ctx.schemas.check(`${t.stream.topic}-value`, t.stream.valueSchema);
    this.checked.add(t.stream);
  }

  private version(name: string, schema: string, table: string, columns: ColumnInfo[], primaryKey: string[]): CapturedTable {
    const signature = JSON.stringify([name, columns, primaryKey]);
    let captured = this.versions.get(signature);
    if (!captured) {
      const stream = streamOf(this.config, schema, table, columns, primaryKey);
      captured = { name, schema, table, columns: columns.map((c) => c.name), primaryKey, stream };
      this.versions.set(signature, captured);
      this.ctx.log.info({ table: name, columns: columns.length, topic: stream.topic }, "table schema version");
    }
    return captured;
  }
}
