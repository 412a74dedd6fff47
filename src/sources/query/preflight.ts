/**
 * `liberator validate` for a query source: the database is reachable, every table and column the
 * config names exists with a type that suits its mode, the keyset columns are indexed, and the
 * user may list other sessions' transactions and, on MariaDB, their locks (the safe horizon needs
 * them).
 */
import { checkMysqlReachable } from "../../runtime/db/mysql.js";
import { checkPostgresReachable } from "../../runtime/db/postgres.js";
import { qualifiedName } from "../../runtime/db/identifiers.js";
import type { PreflightCheck } from "../../runtime/registry.js";
import type { ColumnInfo } from "../../runtime/sql-types/mapping.js";
import { readsById, type QueryConfig, type StreamConfig } from "./config.js";
import type { SourceDatabase } from "./database.js";
import { openDatabase } from "./open-database.js";
import { planStream, streamLabel, type StreamPlan } from "./plan.js";
import { isZoned } from "./sql.js";
import { describeSource, missingTable, streamOfPlan } from "./stream.js";

export async function queryPreflight(config: QueryConfig, connector: string): Promise<PreflightCheck[]> {
  const reach = await (config.dialect === "mysql" ? checkMysqlReachable(config.connection) : checkPostgresReachable(config.connection));
  if (!reach.ok) return [reach];
  const checks: PreflightCheck[] = [reach];
  const db = await openDatabase(config.dialect, config.connection, connector);
  try {
    checks.push(transactionsCheck(config, db));
    if (db.unseenIdDraws && readsById(config)) {
      checks.push({ check: "horizon", ok: false, severity: "warning", ...db.unseenIdDraws });
    }
    let wallClock = false;
    for (const stream of config.streams) {
      const plan = await streamChecks(config, db, stream, checks);
      if (plan?.timestamp && !isZoned(plan.timestamp)) wallClock = true;
    }
    if (wallClock) {
      const zone = config.timeZone ?? (await db.defaultTimeZone());
      checks.push(
        await db.checkTimeZone(zone).then(
          (): PreflightCheck => ({ check: "time zone", ok: true, message: `wall-clock timestamps are read as ${zone}${config.timeZone ? "" : " (the database's default zone)"}` }),
          (err: Error & { fix?: string }): PreflightCheck => ({ check: "time zone", ok: false, message: err.message, ...(err.fix ? { fix: err.fix } : {}) }),
        ),
      );
    }
  } finally {
    await db.close();
  }
  return checks;
}

function transactionsCheck(config: QueryConfig, db: SourceDatabase): PreflightCheck {
  if (db.seesTransactions) return { check: "horizon", ok: true, message: "open transactions are visible: rows committed late are not skipped" };
  const user = config.connection.user;
  return {
    check: "horizon",
    ok: false,
    severity: "warning",
    message: `user "${user}" cannot see other sessions' transactions: the horizon falls back to delayMs (${config.delayMs} ms), and a transaction open longer than that may commit rows that are skipped`,
    fix:
      config.dialect === "mysql"
        ? `GRANT PROCESS ON *.* TO '${user}'@'%'  (needed to read information_schema.INNODB_TRX)`
        : `GRANT pg_read_all_stats TO "${user}"  (and keep track_activities on)`,
  };
}

async function streamChecks(config: QueryConfig, db: SourceDatabase, stream: StreamConfig, checks: PreflightCheck[]): Promise<StreamPlan | undefined> {
  const label = streamLabel(stream);
  const check = `${stream.at}`;
  const described = await describeSource(db, stream).catch((err: Error) => err);
  if (described === null) {
    const err = missingTable(stream);
    checks.push({ check, ok: false, message: err.message, ...(err.fix ? { fix: err.fix } : {}) });
    return undefined;
  }
  if (described instanceof Error) {
    checks.push({ check, ok: false, message: `${label}: ${described.message}` });
    return undefined;
  }
  const result = planStream(stream, described);
  if (!result.plan) {
    for (const p of result.problems) checks.push({ check, ok: false, message: p.message, ...(p.fix ? { fix: p.fix } : {}) });
    return undefined;
  }
  const plan = result.plan;
  try {
    streamOfPlan(plan, config.mapping);
  } catch (err) {
    const e = err as Error & { fix?: string };
    checks.push({ check, ok: false, message: e.message, ...(e.fix ? { fix: e.fix } : {}) });
    return undefined;
  }
  const roles = [
    plan.incrementing && `incrementing ${plan.incrementing.name}`,
    plan.timestamp && `timestamp ${plan.timestamp.name}`,
    plan.key.length > 0 ? `key (${plan.key.join(", ")})` : "no key: records have a null key",
  ].filter(Boolean);
  checks.push({ check, ok: true, message: `${label} → ${stream.topic}: mode ${stream.mode}, ${plan.columns.length} columns, ${roles.join(", ")}` });
  if (plan.timestamp?.nullable) {
    checks.push({
      check,
      ok: false,
      severity: "warning",
      message: `${label}: timestampColumn "${plan.timestamp.name}" allows NULL; rows with NULL there are never read`,
      fix: `make "${plan.timestamp.name}" NOT NULL (with a default), or use mode incrementing`,
    });
  }
  if (!stream.sql) {
    const index = await indexCheck(db, stream, plan.cursor);
    if (index) checks.push({ check, ...index });
  }
  return plan;
}

/** A warning naming the CREATE INDEX to run when no index starts with the keyset columns. */
async function indexCheck(db: SourceDatabase, stream: StreamConfig, cursor: readonly ColumnInfo[]): Promise<Omit<PreflightCheck, "check"> | undefined> {
  const mysql = db.sql.dialect === "mysql";
  const indexes = await db.indexes(stream.schema, stream.table);
  // InnoDB appends the primary key to every secondary index: (updated_at) serves ORDER BY updated_at, id
  const primary = mysql ? (indexes.find((i) => i.primary)?.columns ?? []) : [];
  const wanted = cursor.map((c) => c.name);
  const serves = indexes.some(({ primary: isPrimary, columns: cols }) => {
    const effective = isPrimary ? cols : [...cols, ...primary.filter((p) => !cols.includes(p))];
    return wanted.every((w, i) => effective[i] === w);
  });
  if (serves) return undefined;
  const q = db.sql;
  const name = `liberator_${stream.table}_${wanted.join("_")}`.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 63);
  const columns = wanted.map((w) => q.quote(w)).join(", ");
  const table = qualifiedName({ schema: stream.schema, table: stream.table }, q.dialect);
  const statement = mysql ? `CREATE INDEX ${q.quote(name)} ON ${table} (${columns})` : `CREATE INDEX CONCURRENTLY ${q.quote(name)} ON ${table} (${columns})`;
  return {
    ok: false,
    severity: "warning",
    message: `${streamLabel(stream)} has no index starting with (${wanted.join(", ")}): every poll scans and sorts the table`,
    fix: statement,
  };
}
