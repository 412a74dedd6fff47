import type { Connection, FieldPacket } from "mysql2/promise";
import type { DatabaseConnection } from "../../runtime/config/fields.js";
import { mysqlConnect, selectExact } from "../../runtime/db/mysql.js";
import { classifyMysqlError } from "../../runtime/db/errors.js";
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import { describeMysqlTable, estimateMysqlTable, mysqlIndexes, type TableDescription, type TableEstimate, type TableIndex } from "../../runtime/db/introspect.js";
import type { ColumnInfo } from "../../runtime/sql-types/mapping.js";
import { ConnectionWatch, type DriverRow, type Page, type SourceDatabase } from "./database.js";
import { earliest, type Probe } from "./horizon.js";
import { resultColumnInfo, resultShape } from "./mysql-columns.js";
import type { Params, SqlDialect } from "./sql.js";


/**
 * Other sessions' transactions that may hold an uncommitted id or NOW() stamp: those that modified
 * rows, hold or wait for locks, or run a statement other than a plain read. A transaction that is
 * only reading (a backup's consistent snapshot, a report) cannot, as MySQL stamps NOW() per statement.
 */
const OPEN_WRITERS = `trx_mysql_thread_id <> CONNECTION_ID() AND trx_autocommit_non_locking = 0 AND trx_is_read_only = 0
  AND (trx_rows_modified > 0 OR trx_lock_structs > 0 OR trx_state <> 'RUNNING'
       OR (trx_query IS NOT NULL AND trx_query NOT RLIKE '^[[:space:]]*(SELECT|SHOW|DESC|DESCRIBE|EXPLAIN)[[:space:]]'))`;

/**
 * Other sessions holding a write metadata lock on a table or a sequence: taken by a transaction's
 * first INSERT/UPDATE/DELETE or NEXTVAL on it and kept until it ends. A MariaDB NEXTVAL starts no
 * InnoDB transaction, so `BEGIN; SELECT NEXTVAL(s); …; INSERT … (@id)` is absent from INNODB_TRX
 * until its INSERT, yet holds an id; this lock shows it, and LOCK_TIME_MS says since when.
 * (MariaDB's METADATA_LOCK_INFO plugin; MySQL has no sequences.)
 */
const WRITE_LOCKED = `THREAD_ID <> CONNECTION_ID() AND LOCK_TYPE = 'Table metadata lock' AND LOCK_MODE IN ('MDL_SHARED_WRITE', 'MDL_SHARED_NO_READ_WRITE')`;

/** "1795698625.756982" (a DECIMAL from UNIX_TIMESTAMP) as microseconds, without a float's rounding. */
function micros(value: unknown): number | null {
  if (typeof value !== "string" && typeof value !== "number") return null;
  const [whole, fraction = ""] = String(value).split(".");
  return Number(whole) * 1_000_000 + Number(fraction.padEnd(6, "0").slice(0, 6));
}

/**
 * When the oldest write lock was taken, from its age (whole ms, rounded down: one more keeps the
 * instant at or before the lock). A lock taken before the plugin was loaded has no age: its id may
 * be of any time, so it holds every sample (0).
 */
function lockedSince(now: number, row: DriverRow): number | null {
  if (Number(row.held_unknown ?? 0) > 0) return 0;
  return row.held_ms === null || row.held_ms === undefined ? null : now - (Number(row.held_ms) + 1) * 1000;
}

/**
 * MySQL/MariaDB over two connections: pages are read on one with the binary protocol (FLOAT
 * exact under `SELECT *`, every value in the driver form of MYSQL_READ_OPTIONS, a UTC session);
 * the clock, INNODB_TRX and introspection use the other, whose session zone is SYSTEM so that
 * UNIX_TIMESTAMP(trx_started) reads INNODB_TRX's local times the way the server wrote them.
 */
export class MysqlDatabase implements SourceDatabase {
  seesTransactions = false;
  unseenIdDraws: { message: string; fix: string } | undefined;
  /** Whether METADATA_LOCK_INFO can be read: ids drawn with NEXTVAL before the INSERT are then seen. */
  private seesWriteLocks = false;
  private readonly watch: ConnectionWatch;

  private constructor(
    private readonly data: Connection,
    private readonly meta: Connection,
    readonly sql: SqlDialect,
    conn: DatabaseConnection,
  ) {
    // mysql2 marks connection-level failures `fatal`
    this.watch = new ConnectionWatch(`MySQL/MariaDB at ${conn.host}:${conn.port}`);
    data.on("error", this.watch.onError);
    meta.on("error", this.watch.onError);
  }

  static async open(conn: DatabaseConnection, connector: string, sql: SqlDialect): Promise<MysqlDatabase> {
    const data = await mysqlConnect(conn, connector);
    let meta: Connection | undefined;
    try {
      meta = await mysqlConnect(conn, connector);
      await meta.query("SET time_zone = 'SYSTEM'");
      const db = new MysqlDatabase(data, meta, sql, conn);
      db.seesTransactions = await db.canListTransactions();
      if (db.seesTransactions) await db.checkWriteLocks();
      return db;
    } catch (err) {
      await Promise.all([data.end().catch(() => undefined), meta?.end().catch(() => undefined)]);
      throw err;
    }
  }

  async select(sql: string, params: Params): Promise<Page> {
    const { rows, fields } = await this.watch.run(() => selectExact(this.data, sql, params));
    return { rows, columns: fields.map((f) => f.name), shape: resultShape(fields) };
  }

  async rows(sql: string, params: Params = []): Promise<DriverRow[]> {
    const [rows] = await this.watch.run(() => this.meta.query(sql, params));
    return rows as DriverRow[];
  }

  async lookup(sql: string, params: Params): Promise<DriverRow[]> {
    // the keys read as the pages read them, so that a FLOAT or DOUBLE key is found again
    const { rows } = await this.watch.run(() => selectExact(this.data, sql, params));
    return rows;
  }

  async describeTable(schema: string, table: string): Promise<TableDescription | null> {
    const description = await this.watch.run(() => describeMysqlTable(this.meta, schema, table));
    return description.columns.length > 0 ? description : null;
  }

  async indexes(schema: string, table: string): Promise<TableIndex[]> {
    return this.watch.run(() => mysqlIndexes(this.meta, schema, table));
  }

  async estimate(schema: string, table: string): Promise<TableEstimate> {
    return this.watch.run(() => estimateMysqlTable(this.meta, schema, table));
  }

  async describeQuery(sql: string): Promise<ColumnInfo[]> {
    const statement = await this.watch.run(() => this.meta.prepare(sql));
    // mysql2 keeps the prepared statement's column definitions (with their origin) on its inner object
    const fields = (statement as unknown as { statement?: { columns?: FieldPacket[] } }).statement?.columns ?? [];
    await statement.close();
    const tables = new Map<string, Promise<TableDescription>>();
    return Promise.all(
      fields.map(async (field) => {
        const synthesized = resultColumnInfo(field);
        if (!field.db || !field.orgTable || !field.orgName) return synthesized;
        const key = `${field.db}.${field.orgTable}`;
        if (!tables.has(key)) tables.set(key, this.watch.run(() => describeMysqlTable(this.meta, field.db!, field.orgTable)));
        const origin = (await tables.get(key)!).columns.find((c) => c.name === field.orgName);
        // an outer join can make a NOT NULL column null: the result's own flag decides
        return origin ? { ...origin, name: field.name, nullable: synthesized.nullable } : synthesized;
      }),
    );
  }

  async probe(): Promise<Probe> {
    if (!this.seesTransactions) {
      const [row] = await this.rows("SELECT UNIX_TIMESTAMP(NOW(6)) AS now");
      return { now: micros(row!.now)!, oldest: null, oldestWriter: null };
    }
    // NOW() is the statement's start, fixed before INNODB_TRX and the locks are read
    const [row] = await this.rows(
      this.seesWriteLocks
        ? `SELECT UNIX_TIMESTAMP(NOW(6)) AS now, t.oldest, m.held_ms, m.held_unknown
           FROM (SELECT UNIX_TIMESTAMP(MIN(trx_started)) AS oldest FROM information_schema.INNODB_TRX WHERE ${OPEN_WRITERS}) t
           CROSS JOIN (SELECT MAX(LOCK_TIME_MS) AS held_ms, COUNT(*) - COUNT(LOCK_TIME_MS) AS held_unknown
                       FROM information_schema.METADATA_LOCK_INFO WHERE ${WRITE_LOCKED}) m`
        : `SELECT UNIX_TIMESTAMP(NOW(6)) AS now, UNIX_TIMESTAMP(MIN(trx_started)) AS oldest FROM information_schema.INNODB_TRX WHERE ${OPEN_WRITERS}`,
    );
    const now = micros(row!.now)!;
    const oldest = micros(row!.oldest);
    return { now, oldest, oldestWriter: earliest(oldest, lockedSince(now, row!)) };
  }

  async oldestTransaction(): Promise<string | undefined> {
    if (!this.seesTransactions) return undefined;
    const [trx] = await this.rows(
      `SELECT t.trx_mysql_thread_id AS thread, t.trx_started AS started, UNIX_TIMESTAMP(t.trx_started) AS since, t.trx_state AS state,
              p.USER AS user, p.HOST AS host, LEFT(p.INFO, 200) AS info
       FROM information_schema.INNODB_TRX t LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
       WHERE ${OPEN_WRITERS.replace(/trx_/g, "t.trx_")} ORDER BY t.trx_started LIMIT 1`,
    );
    const [lock] = this.seesWriteLocks
      ? await this.rows(
          `SELECT THREAD_ID AS thread, LOCK_TIME_MS AS held_ms, UNIX_TIMESTAMP(NOW(6)) - (LOCK_TIME_MS + 1) / 1000 AS since,
                  CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) AS locked, p.USER AS user, p.HOST AS host, LEFT(p.INFO, 200) AS info
           FROM information_schema.METADATA_LOCK_INFO LEFT JOIN information_schema.PROCESSLIST p ON p.ID = THREAD_ID
           WHERE ${WRITE_LOCKED} ORDER BY LOCK_TIME_MS IS NULL DESC, LOCK_TIME_MS DESC LIMIT 1`,
        )
      : [];
    // a lock without an age was taken before the plugin was loaded: older than anything listed
    const row = trx && (!lock || (lock.since !== null && Number(trx.since) <= Number(lock.since))) ? trx : lock;
    if (!row) return undefined;
    const who = row.user ? ` (${row.user as string}@${row.host as string})` : "";
    const doing = row.info ? `, running: ${row.info as string}` : ", idle in its transaction";
    const what =
      row === trx
        ? `${String(row.state)} since ${String(row.started)} server time`
        : `holding a write lock on ${row.locked as string} for ${row.held_ms === null ? "longer than the lock listing knows" : `${Number(row.held_ms)} ms`}`;
    return `thread ${String(row.thread)}${who}, ${what}${doing}`;
  }

  async busyness(): Promise<number> {
    const [row] = await this.rows("SHOW GLOBAL STATUS LIKE 'Threads_running'");
    return Number(row?.Value ?? 0);
  }

  async defaultTimeZone(): Promise<string> {
    const [row] = await this.rows("SELECT @@global.time_zone AS tz");
    return String(row!.tz);
  }

  async checkTimeZone(zone: string): Promise<void> {
    const [row] = await this.rows("SELECT CONVERT_TZ('2000-01-01 00:00:00', '+00:00', ?) AS t", [zone]);
    if (row?.t === null || row?.t === undefined) {
      throw new PreconditionError(ErrorCode.QUERY_TIME_ZONE_UNKNOWN, `MySQL/MariaDB does not know the time zone "${zone}" (CONVERT_TZ gives NULL)`, {
        fix: "load the time zone tables (mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb mysql), or set timeZone to an offset such as +01:00",
      });
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.data.end().catch(() => undefined), this.meta.end().catch(() => undefined)]);
  }

  private async checkWriteLocks(): Promise<void> {
    try {
      await this.rows("SELECT 1 FROM information_schema.METADATA_LOCK_INFO LIMIT 0");
      this.seesWriteLocks = true;
    } catch (err) {
      if (classifyMysqlError(err) !== "table-missing") throw err;
      const [row] = await this.rows("SELECT VERSION() AS version");
      if (!/mariadb/i.test(String(row?.version))) return;
      this.unseenIdDraws = {
        message: "MariaDB's METADATA_LOCK_INFO is not installed: a transaction that took its id with NEXTVAL and has not inserted it yet is invisible, and an incrementing stream may skip its row",
        fix: "INSTALL SONAME 'metadata_lock_info'  (once, as an administrator; it stays installed across restarts)",
      };
    }
  }

  private async canListTransactions(): Promise<boolean> {
    try {
      await this.rows("SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX");
      return true;
    } catch (err) {
      if (classifyMysqlError(err) === "privilege") return false;
      throw err;
    }
  }
}
