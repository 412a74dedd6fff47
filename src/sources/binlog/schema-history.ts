/**
 * Each captured table's schema versions. A version is what a table-map event (or, for snapshot
 * reads, information_schema) says the columns are, plus the overrides of table-map.ts; its
 * TableStream is built once and cached by signature, so steady streaming does no schema work.
 * Before the first record of a version is produced, the registry's compatibility rule is asked
 * (ctx.schemas.check): an incompatible DDL stops the connector at that position.
 *
 * The overrides are the schema history that must survive a restart (the table map carries the
 * rest), so they travel in the position.
 */
import type { Connection } from "mysql2/promise";
import type { SourceContext } from "../../runtime/connector.js";
import { describeMysqlTable } from "../../runtime/db/introspect.js";
import { tableStream, type TableStream } from "../../runtime/sql-types/envelope.js";
import type { BinlogConfig } from "./config.js";
import type { ColumnOverride, SchemaOverrides } from "./position.js";
import { columnsOf, layoutFromInfoSchema, layoutSignature, liveOverrides, type TableLayout } from "./table-map.js";

/** One version of one captured table. */
export interface CapturedTable {
  /** "db.table" */
  name: string;
  database: string;
  table: string;
  layout: TableLayout;
  stream: TableStream;
}

const TOPIC_UNSAFE = /[^A-Za-z0-9._-]/g;

export class SchemaHistory {
  private overrides: SchemaOverrides;
  /** The overrides as last handed to a position; positions are never mutated after. */
  private published: SchemaOverrides | undefined;
  private readonly versions = new Map<string, CapturedTable>();
  private readonly checked = new WeakSet<TableStream>();
  /** Tables a DDL touched since their last table map: information_schema may explain new columns. */
  private readonly dirty = new Set<string>();

  constructor(
    private readonly config: BinlogConfig,
    private readonly ctx: SourceContext,
    private readonly mariadb: boolean,
    overrides: SchemaOverrides,
  ) {
    this.overrides = overrides;
    this.published = overrides;
  }

  /** The schema history for the next position. */
  forPosition(): SchemaOverrides {
    this.published ??= { ...this.overrides };
    return this.published;
  }

  /** Reads a table's columns from information_schema now (snapshot reads, a fresh stream start). */
  async learn(conn: Connection, name: string, database: string, table: string): Promise<CapturedTable | undefined> {
    const description = await describeMysqlTable(conn, database, table);
    if (description.columns.length === 0) return undefined;
    const { layout, overrides } = layoutFromInfoSchema(description, this.mariadb);
    this.setOverrides(name, overrides);
    return this.version(name, database, table, layout);
  }

  /**
   * The version a table map describes. After a DDL on the table, information_schema is asked once
   * for what the map cannot say; a column it describes differently (a later DDL already ran) keeps
   * the map's own spelling.
   */
  async fromTableMap(conn: Connection, name: string, database: string, table: string, layout: TableLayout): Promise<CapturedTable> {
    if (this.dirty.delete(name)) {
      const now = layoutFromInfoSchema(await describeMysqlTable(conn, database, table), this.mariadb);
      const merged: Record<string, ColumnOverride> = { ...liveOverrides(layout, this.overrides[name]) };
      for (const column of layout.columns) {
        const there = now.layout.columns.find((c) => c.name === column.name);
        if (!there || there.sqlType !== column.sqlType) continue;
        const override = now.overrides[column.name];
        if (override) merged[column.name] = override;
        else delete merged[column.name];
      }
      this.setOverrides(name, merged);
    } else {
      const live = liveOverrides(layout, this.overrides[name]);
      if (Object.keys(live).length !== Object.keys(this.overrides[name] ?? {}).length) this.setOverrides(name, live);
    }
    return this.version(name, database, table, layout);
  }

  /** A DDL changed the table: its next table map may need information_schema. */
  touched(name: string): void {
    this.dirty.add(name);
  }

  dropped(name: string): void {
    this.dirty.delete(name);
    if (this.overrides[name]) this.setOverrides(name, undefined);
  }

  renamed(from: string, to: string): void {
    const o = this.overrides[from];
    this.dropped(from);
    if (o) this.setOverrides(to, o);
    this.dirty.add(to);
  }

  /** The compatibility gate, once per version: throws SchemaIncompatibleError naming the field and rule. */
  async check(t: CapturedTable): Promise<void> {
    if (this.checked.has(t.stream)) return;
    if (t.stream.keySchema) await this.ctx.schemas.check(`${t.stream.topic}-key`, t.stream.keySchema);
    await this.ctx.schemas.check(`${t.stream.topic}-value`, t.stream.valueSchema);
    this.checked.add(t.stream);
  }

  private version(name: string, database: string, table: string, layout: TableLayout): CapturedTable {
    const signature = `${name}\0${layoutSignature(layout, this.overrides[name])}`;
    let captured = this.versions.get(signature);
    if (!captured) {
      const stream = streamOf(this.config, database, table, layout, this.overrides[name]);
      captured = { name, database, table, layout, stream };
      this.versions.set(signature, captured);
      this.ctx.log.info({ table: name, columns: layout.columns.length, topic: stream.topic }, "table schema version");
    }
    return captured;
  }

  private setOverrides(name: string, overrides: Record<string, ColumnOverride> | undefined): void {
    const next = { ...this.overrides };
    if (overrides && Object.keys(overrides).length > 0) next[name] = overrides;
    else delete next[name];
    if (JSON.stringify(next[name]) === JSON.stringify(this.overrides[name])) return;
    this.overrides = next;
    this.published = undefined;
  }
}

/** `<topicPrefix>.<database>.<table>`, characters Kafka refuses in a topic name made "_". */
export function topicOf(config: Pick<BinlogConfig, "topicPrefix" | "name">, database: string, table: string): string {
  const prefix = config.topicPrefix ?? config.name;
  return `${prefix}.${database.replace(TOPIC_UNSAFE, "_")}.${table.replace(TOPIC_UNSAFE, "_")}`;
}

/** A table version's stream, with the connector's key columns and column policy for the table. */
export function streamOf(config: BinlogConfig, database: string, table: string, layout: TableLayout, overrides: Record<string, ColumnOverride> | undefined): TableStream {
  const settings = config.tables[`${database}.${table}`];
  return tableStream(
    { columns: columnsOf(layout, overrides), primaryKey: layout.primaryKey },
    {
      topic: topicOf(config, database, table),
      table: `${database}.${table}`,
      mapping: { zeroDates: config.zeroDates, partialZeroDates: config.partialZeroDates },
      ...(settings?.keyColumns ? { keyColumns: settings.keyColumns } : {}),
      ...(settings?.columns ? { columns: settings.columns } : {}),
      ...(config.hashKey ? { hashKey: config.hashKey } : {}),
    },
  );
}
