import { ConnectionError } from "../../runtime/errors.js";
import type { TableDescription, TableEstimate, TableIndex } from "../../runtime/db/introspect.js";
import type { ColumnInfo } from "../../runtime/sql-types/mapping.js";
import type { Probe } from "./horizon.js";
import type { Params, SqlDialect } from "./sql.js";
import { classifyDbError } from "../../runtime/db/errors.js";

export type DriverRow = Record<string, unknown>;

export interface Page {
  rows: DriverRow[];
  /** The result's column names, in order. */
  columns: string[];
  /** A fingerprint of the result's columns (names and types): it changes with a DDL on what is read. */
  shape: string;
}

/**
 * One legacy database as the query source uses it: pages of rows read exactly, the clock and the
 * open transactions, introspection. Each dialect implements it over its driver.
 */
export interface SourceDatabase {
  readonly sql: SqlDialect;
  /** Whether other sessions' open transactions can be listed (MySQL PROCESS; PostgreSQL pg_read_all_stats). */
  readonly seesTransactions: boolean;
  /** Set where a transaction holding an id it drew before its INSERT cannot be seen here although it could be: why, and what to do. */
  readonly unseenIdDraws?: { message: string; fix: string };
  /** Rows of a page query, every value in the driver form the mapping expects. */
  select(sql: string, params: Params): Promise<Page>;
  /** A small query on the side connection (introspection, MAX, counts). */
  rows(sql: string, params?: Params): Promise<DriverRow[]>;
  /** A query on the pages' connection and session (UTC), for values read as pages read them; not prepared. */
  lookup(sql: string, params: Params): Promise<DriverRow[]>;
  /** Columns and primary key of a table; null when it does not exist or cannot be seen. */
  describeTable(schema: string, table: string): Promise<TableDescription | null>;
  /** A table's indexes (none when it cannot be seen). */
  indexes(schema: string, table: string): Promise<TableIndex[]>;
  /** The server's estimate of a table's size, for progress. */
  estimate(schema: string, table: string): Promise<TableEstimate>;
  /** Columns of a custom query's result; where a column comes straight from a table, as that table describes it. */
  describeQuery(sql: string): Promise<ColumnInfo[]>;
  probe(): Promise<Probe>;
  /** Why the horizon is held back: the oldest open transaction, for a log line. */
  oldestTransaction(): Promise<string | undefined>;
  /** Sessions running a statement now (Threads_running, active backends). */
  busyness(): Promise<number>;
  /** The zone sessions get by default: what DATETIME / timestamp values written with NOW() are in. */
  defaultTimeZone(): Promise<string>;
  /** Fails with a clear error when `zone` cannot be used in SQL (MySQL without time zone tables). */
  checkTimeZone(zone: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs driver calls so that a dropped connection surfaces as a retriable ConnectionError (the
 * runner then restarts the connector from its committed position), not as a driver message the
 * runtime would take for a permanent failure. `lost` is set from the driver's "error" event: an
 * idle connection that dies has no query to fail, and an unheard "error" event would end the process.
 */
export class ConnectionWatch {
  lost: Error | undefined;

  constructor(private readonly where: string) {}

  readonly onError = (err: Error): void => {
    this.lost ??= err;
  };

  async run<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (this.lost || classifyDbError(err) === "connection") {
        throw new ConnectionError(`lost the connection to ${this.where}: ${(this.lost ?? (err as Error)).message}`, { cause: err });
      }
      throw err;
    }
  }
}
