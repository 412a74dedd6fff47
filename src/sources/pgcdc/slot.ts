/**
 * The publication (which tables' changes the slot's pgoutput sends) and the slot (where the
 * server keeps the WAL the connector has not confirmed). The publication is made to follow the
 * config before the slot is created or read: pgoutput reads publication membership as of each
 * change, so a table added to it later is published from then on.
 */
import type pg from "pg";
import type { Logger } from "../../runtime/log.js";
import { quotePg } from "../../runtime/db/identifiers.js";
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import { publicationOf, type PgcdcConfig } from "./config.js";
import { parseLsn } from "./pgoutput.js";
import { splitName } from "./tables.js";

const qualified = (name: string) => splitName(name).map(quotePg).join(".");

/** Creates the publication, or (filtered) sets its tables to the captured ones. */
export async function ensurePublication(config: PgcdcConfig, db: pg.Client, tables: readonly string[], log: Logger): Promise<void> {
  const name = publicationOf(config);
  const mode = config.publication.create;
  if (mode === "never") return;
  const { rows } = await db.query<{ all: unknown }>("SELECT puballtables AS all FROM pg_publication WHERE pubname = $1", [name]);
  if (mode === "all") {
    if (rows.length === 0) {
      await db.query(`CREATE PUBLICATION ${quotePg(name)} FOR ALL TABLES`);
      log.info({ publication: name }, "publication created FOR ALL TABLES");
    }
    return;
  }
  if (tables.length === 0) return;
  const list = tables.map(qualified).join(", ");
  if (rows.length === 0) {
    await db.query(`CREATE PUBLICATION ${quotePg(name)} FOR TABLE ${list}`);
    log.info({ publication: name, tables: tables.length }, "publication created");
    return;
  }
  const { rows: published } = await db.query<{ name: string }>("SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1", [name]);
  const have = published.map((r) => r.name);
  if (have.length === tables.length && [...tables].sort().every((t, i) => t === have[i])) return;
  await db.query(`ALTER PUBLICATION ${quotePg(name)} SET TABLE ${list}`);
  log.info({ publication: name, added: tables.filter((t) => !have.includes(t)), removed: have.filter((t) => !tables.includes(t)) }, "publication follows the captured tables");
}

export interface SlotState {
  confirmedFlush: bigint | null;
  lost: boolean;
  active: boolean;
}

export async function slotState(db: pg.Client, slot: string): Promise<SlotState | undefined> {
  const { rows } = await db.query<{ lsn: string | null; wal_status: string | null; active: unknown }>(
    "SELECT confirmed_flush_lsn::text AS lsn, wal_status, active FROM pg_replication_slots WHERE slot_name = $1",
    [slot],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { confirmedFlush: row.lsn ? parseLsn(row.lsn) : null, lost: row.wal_status === "lost", active: row.active === true || row.active === "t" };
}

/** Drops the slot (no position needs it any more); fails when another connection streams from it. */
export async function dropSlot(db: pg.Client, slot: string): Promise<void> {
  try {
    await db.query("SELECT pg_drop_replication_slot($1)", [slot]);
  } catch (err) {
    if ((err as { code?: string }).code === "42704") return;
    if ((err as { code?: string }).code === "55006") {
      throw new PreconditionError(ErrorCode.PGCDC_PREFLIGHT_FAILED, `replication slot "${slot}" is in use by another connection and cannot be made anew`, {
        cause: err,
        fix: "stop the other reader of the slot, or give this connector its own slot.name",
      });
    }
    throw err;
  }
}

/** How far behind the slot is: bytes between the server's WAL end and what was confirmed, and the WAL it retains. */
export async function slotLag(db: pg.Client, slot: string): Promise<{ lagBytes: number; retainedBytes: number } | undefined> {
  const { rows } = await db.query<{ lag: string | null; retained: string | null }>(
    `SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::text AS lag, (pg_current_wal_lsn() - restart_lsn)::text AS retained
     FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { lagBytes: Number(row.lag ?? 0), retainedBytes: Number(row.retained ?? 0) };
}
