/**
 * Whether the server will give this connector what it needs, each answer with the statement that
 * fixes it. Run by `liberator validate` and at every start (a failed check stops the connector
 * before it reads anything).
 */
import type pg from "pg";
import { quotePg } from "../../runtime/db/identifiers.js";
import { PG_READ_OPTIONS, pgConnect } from "../../runtime/db/postgres.js";
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import type { PreflightCheck } from "../../runtime/registry.js";
import { publicationOf, slotOf, type PgcdcConfig } from "./config.js";
import { capturedTables, pgTableFilter, splitName } from "./tables.js";

const CODES: Record<string, ErrorCode> = {
  wal_level: ErrorCode.PGCDC_WAL_LEVEL,
  max_replication_slots: ErrorCode.PGCDC_SLOTS_EXHAUSTED,
  max_wal_senders: ErrorCode.PGCDC_WAL_SENDERS_EXHAUSTED,
  replication: ErrorCode.PGCDC_REPLICATION_PRIVILEGE_MISSING,
  tables: ErrorCode.PGCDC_TABLES_UNREADABLE,
  replica_identity: ErrorCode.PGCDC_REPLICA_IDENTITY,
  publication: ErrorCode.PGCDC_PUBLICATION_MISSING,
  slot: ErrorCode.PGCDC_SLOT_INVALIDATED,
};

type Row = Record<string, unknown>;

/** A boolean as pg parses it, or as the server's text (a connection with PG_READ_OPTIONS). */
const yes = (v: unknown) => v === true || v === "t";

const restartFix = (setting: string, value: string) => `ALTER SYSTEM SET ${setting} = ${value}; then restart PostgreSQL`;

/** Every check, in the order a person fixes them. Never throws for a check that fails. */
export async function preflightChecks(config: PgcdcConfig, db: pg.Client): Promise<PreflightCheck[]> {
  const slot = slotOf(config);
  const [s] = (
    await db.query<Row>(
      `SELECT current_setting('server_version') AS version, current_setting('wal_level') AS wal_level,
              current_setting('max_replication_slots')::int AS max_slots, current_setting('max_wal_senders')::int AS max_senders,
              (SELECT count(*) FROM pg_replication_slots)::int AS slots,
              (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender')::int AS senders,
              (SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1)::int AS ours,
              (SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1) AS wal_status,
              (SELECT database FROM pg_replication_slots WHERE slot_name = $1) AS slot_database,
              current_database() AS database,
              (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS replication,
              EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication' AND pg_has_role(current_user, oid, 'MEMBER')) AS rds_replication`,
      [slot],
    )
  ).rows as [Row];
  const user = config.connection.user;
  const checks: PreflightCheck[] = [{ check: "connect", ok: true, message: `PostgreSQL ${String(s.version)} at ${config.connection.host}:${config.connection.port}, database ${String(s.database)}` }];

  checks.push(
    s.wal_level === "logical"
      ? { check: "wal_level", ok: true, message: "wal_level = logical" }
      : { check: "wal_level", ok: false, message: `wal_level is ${String(s.wal_level)}, logical decoding needs logical`, fix: restartFix("wal_level", "logical") },
  );

  // our own slot, and a temporary one while a snapshot resumes
  const needSlots = (Number(s.ours) > 0 ? 0 : 1) + 1;
  const freeSlots = Number(s.max_slots) - Number(s.slots);
  checks.push(
    freeSlots >= needSlots
      ? { check: "max_replication_slots", ok: true, message: `${freeSlots} of ${String(s.max_slots)} replication slots free` }
      : {
          check: "max_replication_slots",
          ok: false,
          message: `${freeSlots} of ${String(s.max_slots)} replication slots free, the connector needs ${needSlots} (its slot "${slot}", and a temporary one while a snapshot resumes)`,
          fix: `drop unused slots (SELECT pg_drop_replication_slot('<name>') FROM pg_replication_slots WHERE NOT active), or ${restartFix("max_replication_slots", String(Number(s.max_slots) + needSlots))}`,
        },
  );
  const freeSenders = Number(s.max_senders) - Number(s.senders);
  checks.push(
    freeSenders >= 1
      ? { check: "max_wal_senders", ok: true, message: `${freeSenders} of ${String(s.max_senders)} WAL senders free` }
      : { check: "max_wal_senders", ok: false, message: `no WAL sender free (max_wal_senders = ${String(s.max_senders)}, all in use)`, fix: restartFix("max_wal_senders", String(Number(s.max_senders) + 2)) },
  );
  const mayReplicate = yes(s.replication) || yes(s.rds_replication);
  checks.push(
    mayReplicate
      ? { check: "replication", ok: true, message: `user ${user} may open replication connections` }
      : {
          check: "replication",
          ok: false,
          message: `user ${user} has no REPLICATION attribute: it may not open a replication connection`,
          fix: `ALTER ROLE ${quotePg(user)} WITH REPLICATION;  (Amazon RDS/Aurora: GRANT rds_replication TO ${quotePg(user)};)`,
        },
  );
  if (Number(s.ours) > 0 && s.wal_status === "lost") {
    checks.push({
      check: "slot",
      ok: false,
      message: `replication slot "${slot}" was invalidated (wal_status lost): the WAL it needs is gone`,
      fix: `set snapshot.mode: when_needed to drop it and copy the tables again, or SELECT pg_drop_replication_slot('${slot}'); and reset the connector's offsets`,
    });
  } else if (Number(s.ours) > 0 && s.slot_database !== s.database) {
    checks.push({ check: "slot", ok: false, message: `replication slot "${slot}" belongs to database ${String(s.slot_database)}, not ${String(s.database)}`, fix: "set slot.name to a slot of its own" });
  }
  checks.push(...(await tableChecks(config, db)));
  return checks;
}

async function tableChecks(config: PgcdcConfig, db: pg.Client): Promise<PreflightCheck[]> {
  const names = await capturedTables(db, pgTableFilter(config));
  if (names.length === 0) {
    return [
      {
        check: "tables",
        ok: true,
        severity: "warning",
        message: `no table matches include ${JSON.stringify(config.include)} (exclude ${JSON.stringify(config.exclude)})`,
        fix: "check include/exclude and the connection's database, and that the user may see the tables",
      },
    ];
  }
  const { rows } = await db.query<Row>(
    `SELECT n.nspname || '.' || c.relname AS name, c.relreplident AS identity,
            has_table_privilege(c.oid, 'SELECT') AS readable,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk,
            EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attstorage <> 'p') AS toastable
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname || '.' || c.relname = ANY($1::text[])`,
    [names],
  );
  const checks: PreflightCheck[] = [];
  const unreadable = rows.filter((r) => !yes(r.readable)).map((r) => String(r.name));
  checks.push(
    unreadable.length === 0
      ? { check: "tables", ok: true, message: `${names.length} table(s) captured` }
      : { check: "tables", ok: false, message: `user ${config.connection.user} cannot SELECT from ${unreadable.join(", ")}`, fix: `GRANT SELECT ON ${unreadable.map(qualified).join(", ")} TO ${quotePg(config.connection.user)};` },
  );
  const nothing = rows.filter((r) => r.identity === "n" || (r.identity === "d" && !yes(r.has_pk))).map((r) => String(r.name));
  if (nothing.length > 0) {
    checks.push({
      check: "replica_identity",
      ok: false,
      message: `${nothing.join(", ")} ha${nothing.length === 1 ? "s" : "ve"} no replica identity (REPLICA IDENTITY NOTHING, or DEFAULT without a primary key): once published, PostgreSQL refuses ${nothing.length === 1 ? "its" : "their"} updates and deletes`,
      fix: nothing.map((n) => `ALTER TABLE ${qualified(n)} REPLICA IDENTITY FULL;`).join(" ") + "  (or add a primary key)",
    });
  } else {
    checks.push({ check: "replica_identity", ok: true, message: "every captured table has a replica identity" });
  }
  const partial = rows.filter((r) => r.identity !== "f" && r.identity !== "n" && yes(r.toastable) && yes(r.has_pk)).map((r) => String(r.name));
  if (partial.length > 0) {
    checks.push({
      check: "before_images",
      ok: true,
      severity: "warning",
      message: `${partial.join(", ")}: updates and deletes carry no before image (REPLICA IDENTITY DEFAULT), and a TOASTed value an update did not touch is read back from the table`,
      fix: partial.map((n) => `ALTER TABLE ${qualified(n)} REPLICA IDENTITY FULL;`).join(" "),
    });
  }
  checks.push(await publicationCheck(config, db, names));
  return checks;
}

async function publicationCheck(config: PgcdcConfig, db: pg.Client, names: string[]): Promise<PreflightCheck> {
  const name = publicationOf(config);
  const { rows } = await db.query<Row>("SELECT puballtables AS all FROM pg_publication WHERE pubname = $1", [name]);
  const mode = config.publication.create;
  if (rows.length === 0) {
    if (mode === "never") {
      return { check: "publication", ok: false, message: `publication "${name}" does not exist (publication.create: never)`, fix: `CREATE PUBLICATION ${quotePg(name)} FOR TABLE ${names.map(qualified).join(", ")};` };
    }
    return { check: "publication", ok: true, message: `publication "${name}" is created at start (${mode === "all" ? "FOR ALL TABLES" : "FOR TABLE the captured tables"})` };
  }
  if (mode !== "never" || yes(rows[0]!.all)) return { check: "publication", ok: true, message: `publication "${name}" exists` };
  const { rows: published } = await db.query<Row>("SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables WHERE pubname = $1", [name]);
  const have = new Set(published.map((r) => String(r.name)));
  const missing = names.filter((n) => !have.has(n));
  return missing.length === 0
    ? { check: "publication", ok: true, message: `publication "${name}" publishes every captured table` }
    : { check: "publication", ok: false, message: `publication "${name}" lacks ${missing.join(", ")}: their changes would never arrive`, fix: `ALTER PUBLICATION ${quotePg(name)} ADD TABLE ${missing.map(qualified).join(", ")};` };
}

const qualified = (name: string) => splitName(name).map(quotePg).join(".");

/** `liberator validate`: every check, a connection failure included. */
export async function preflight(config: PgcdcConfig): Promise<PreflightCheck[]> {
  let db: pg.Client;
  try {
    db = await pgConnect(config.connection, undefined, PG_READ_OPTIONS);
  } catch (err) {
    const e = err as Error & { fix?: string };
    return [{ check: "connect", ok: false, message: e.message, ...(e.fix ? { fix: e.fix } : {}) }];
  }
  try {
    return await preflightChecks(config, db);
  } finally {
    await db.end().catch(() => undefined);
  }
}

/** At start: the first failed check stops the connector (never retried: a person must act). */
export function failedCheck(checks: readonly PreflightCheck[], connector: string): PreconditionError | undefined {
  const failed = checks.find((c) => !c.ok && c.severity !== "warning");
  if (!failed) return undefined;
  return new PreconditionError(CODES[failed.check] ?? ErrorCode.PGCDC_PREFLIGHT_FAILED, `${failed.check}: ${failed.message}`, { connector, ...(failed.fix ? { fix: failed.fix } : {}) });
}
