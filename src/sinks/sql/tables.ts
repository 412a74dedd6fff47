/**
 * The target tables as the sink knows them: described once, created or evolved when a new row
 * schema arrives, and for each schema version a `Shape` that turns its rows into driver
 * parameters. A steady stream does no schema work: shapes are found by schema identity.
 */
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import type { Logger } from "../../runtime/log.js";
import type { AvroField } from "../../runtime/sql-types/mapping.js";
import { fieldType, toSqlParam } from "../../runtime/sql-types/to-sql.js";
import type { RowSchema } from "./changes.js";
import type { SqlSinkConfig } from "./config.js";
import { addColumnsSql, columnGaps, createTableSql, describeGap, hasUniqueKey } from "./ddl.js";
import type { SqlTarget, TableRef, TargetTable } from "./target.js";

type Row = Record<string, unknown>;

/** Reads the key out of rows of one schema: as an identity (for folding) and as driver parameters. */
export interface KeyReader {
  /** Equal for rows with equal keys: the value itself for a one-column key, a string otherwise. */
  id(row: Row): unknown;
  /** Appends the key's driver parameters, in key column order. */
  write(row: Row, out: unknown[]): void;
}

/** One schema version of a table's rows, ready to write. */
export interface Shape {
  table: TargetTable;
  columns: readonly string[];
  /** Appends the row's driver parameters, in `columns` order. */
  write(row: Row, out: unknown[]): void;
  /** Undefined when the table has no key. */
  key: KeyReader | undefined;
}

export class TableState {
  table: TargetTable | undefined;
  /** Decided at the first record: config, else the record key, else the table's primary key. */
  keyColumns: string[] | undefined;
  readonly shapes = new WeakMap<object, Shape>();
  readonly keyReaders = new WeakMap<object, KeyReader | null>();
  /** Columns whose exceptional values were named already (`column:type`). */
  readonly warned = new Set<string>();

  constructor(
    readonly ref: TableRef,
    readonly label: string,
  ) {}
}

export class Tables {
  private readonly states = new Map<string, TableState>();

  constructor(
    private readonly target: SqlTarget,
    private readonly config: SqlSinkConfig,
    private readonly log: Logger,
  ) {}

  /** The table's state, described from the database the first time. */
  async state(ref: TableRef): Promise<TableState> {
    const label = this.target.quoteTable(ref);
    let state = this.states.get(label);
    if (!state) {
      state = new TableState(ref, label);
      state.table = await this.target.describe(ref);
      this.states.set(label, state);
    }
    return state;
  }

  names(): string[] {
    return [...this.states.keys()];
  }

  /** Forget what was described: after a failed transaction a DDL statement may not have happened as we think. */
  reset(): void {
    this.states.clear();
  }

  /** Decides the key columns once per table. `recordKey` is the record key's schema, if a record. */
  decideKey(state: TableState, recordKey: RowSchema | undefined): string[] {
    state.keyColumns ??= this.config.keyColumns ?? (recordKey ? [...recordKey.columns] : (state.table?.primaryKey ?? []));
    return state.keyColumns;
  }

  /** The shape of rows of `schema` in this table, creating or evolving the table first if needed. */
  async shape(state: TableState, schema: RowSchema, recordKey: RowSchema | undefined): Promise<Shape> {
    const known = state.shapes.get(schema.id);
    if (known) return known;
    const key = this.decideKey(state, recordKey);
    await this.fit(state, schema, key);
    const table = state.table!;
    const shape: Shape = {
      table,
      columns: schema.columns,
      write: writer(schema.fields, this.target.dialect),
      key: this.keyReader(state, schema) ?? undefined,
    };
    this.checkKey(state, table, key);
    state.shapes.set(schema.id, shape);
    return shape;
  }

  /** Reads the table's key columns from rows of `schema`; null when the schema lacks one of them. */
  keyReader(state: TableState, schema: RowSchema): KeyReader | null {
    const cached = state.keyReaders.get(schema.id);
    if (cached !== undefined) return cached;
    const key = state.keyColumns ?? [];
    const at = key.map((c) => schema.columns.indexOf(c));
    let reader: KeyReader | null = null;
    if (key.length > 0 && at.every((i) => i >= 0)) {
      const fields = at.map((i) => schema.fields[i]!);
      const [first] = fields;
      reader = {
        id: fields.length === 1 ? (row) => identity(row[first!.name]) : (row) => fields.map((f) => identity(row[f.name])).join("\u0000"),
        write: writer(fields, this.target.dialect),
      };
    }
    state.keyReaders.set(schema.id, reader);
    return reader;
  }

  /** Creates or evolves the table for `schema`, or stops with the DDL a person has to run. */
  private async fit(state: TableState, schema: RowSchema, key: string[]): Promise<void> {
    if (!state.table) {
      const sql = createTableSql(this.target, state.ref, schema, key);
      if (!this.config.autoCreate) {
        throw new PreconditionError(ErrorCode.SINK_TABLE_MISSING, `table ${state.label} does not exist in ${this.target.where}`, { fix: `create it (${sql}), or set autoCreate: true` });
      }
      await this.ddl(state, [sql], "created table", (table) => table !== undefined);
    }
    const additions = addColumnsSql(this.target, state.table!, schema);
    if (additions.length > 0) {
      if (!this.config.autoEvolve) {
        throw new PreconditionError(ErrorCode.SINK_TABLE_COLUMNS_MISSING, `table ${state.label} lacks columns the stream has`, { fix: `run ${additions.join("; ")}, or set autoEvolve: true` });
      }
      await this.ddl(state, additions, "added columns", (table) => table !== undefined && addColumnsSql(this.target, table, schema).length === 0);
    }
    this.checkColumns(state, schema, key);
  }

  /**
   * Before the first write of a schema version (and at start, for the schemas registered then):
   * columns that cannot hold values the stream carries in the normal course stop the sink, with the
   * statements that fix them; exceptional values they cannot hold (NaN, infinities…) are named once.
   */
  checkColumns(state: TableState, schema: RowSchema, key: readonly string[]): void {
    const found = columnGaps(this.target, state.table!, schema, key);
    const narrow = found.filter((g) => g.ordinary.length > 0);
    if (narrow.length > 0) {
      throw new PreconditionError(
        ErrorCode.SINK_TABLE_TOO_NARROW,
        `table ${state.label} cannot hold values the stream carries: ${narrow.map((g) => describeGap(g, "ordinary")).join("; ")}. Changing a column's type rewrites the table, which the sink does not do on its own`,
        { fix: `review and run: ${narrow.map((g) => g.alter).join("; ")}` },
      );
    }
    // one line per table and schema version: a wide table's text columns made one line each at every start
    const unsaid = found.filter((g) => g.exceptional.length > 0 && !state.warned.has(`${g.column}:${g.sqlType}`));
    if (unsaid.length === 0) return;
    for (const g of unsaid) state.warned.add(`${g.column}:${g.sqlType}`);
    this.log.warn(
      { table: state.label, columns: unsaid.map((g) => g.column) },
      `table ${state.label} cannot hold every value the stream may carry, ${unsaid.map((g) => describeGap(g, "exceptional")).join("; ")}: a record with one is refused when it comes (errors.tolerance decides: dead letter or stop)`,
    );
  }

  private checkKey(state: TableState, table: TargetTable, key: string[]): void {
    const { mode } = this.config;
    if (key.length === 0) {
      if (mode === "insert") return;
      throw new PreconditionError(ErrorCode.SINK_KEY_MISSING, `table ${state.label} has no key columns, which mode "${mode}" needs`, {
        fix: "give the records a key, set keyColumns, or use mode: insert",
      });
    }
    const missing = key.filter((k) => !table.columns.some((c) => c.name === k));
    if (missing.length > 0) throw new PreconditionError(ErrorCode.SINK_KEY_COLUMN_MISSING, `table ${state.label} has no column(s) ${missing.join(", ")} of its key`, { fix: "set keyColumns to columns of the table" });
    if (mode === "upsert" && !hasUniqueKey(table, key)) {
      throw new PreconditionError(ErrorCode.SINK_KEY_NOT_UNIQUE, `table ${state.label} has no primary key or unique index on (${key.join(", ")}), so an upsert cannot find the row it replaces`, {
        fix: `run ${this.target.addPrimaryKeySql(state.ref, key)} (or create a unique index on those columns)`,
      });
    }
  }

  /**
   * Runs DDL; `done` says whether the table as it is now already has what the DDL would give. The
   * tasks of a sink (or several sinks) that meet a new table or column at once each run the same
   * DDL, and all but one fail on it ("already exists"): for those the table as it is then decides.
   */
  private async ddl(state: TableState, statements: string[], what: string, done: (table: TargetTable | undefined) => boolean): Promise<void> {
    try {
      for (const sql of statements) await this.target.query(sql);
    } catch (err) {
      state.table = await this.target.describe(state.ref).catch(() => undefined);
      if (!done(state.table)) throw err;
      this.log.info({ table: state.label, ddl: statements }, `${what} ${state.label}: another writer did it at the same moment`);
      return;
    }
    state.table = await this.target.describe(state.ref);
    this.log.info({ table: state.label, ddl: statements }, `${what} ${state.label}`);
  }
}

/** Appends the fields of a canonical row as driver parameters; each field's null branch is removed once. */
function writer(fields: readonly AvroField[], dialect: SqlTarget["dialect"]): (row: Row, out: unknown[]) => void {
  const names = fields.map((f) => f.name);
  const bare = fields.map((f) => ({ type: fieldType(f).type }) as Pick<AvroField, "type">);
  return (row, out) => {
    for (let i = 0; i < names.length; i++) out.push(toSqlParam(row[names[i]!], bare[i]!, dialect));
  };
}

/** A key value as a Map key: primitives compare by value already, bytes by their hex. */
function identity(value: unknown): unknown {
  return Buffer.isBuffer(value) ? value.toString("hex") : value;
}
