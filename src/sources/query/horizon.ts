/**
 * The safe horizon: how far a poll may read without skipping a row whose transaction commits late.
 *
 * The trap (Confluent's JDBC source falls in it): ids and NOW() timestamps are handed out while a
 * transaction runs, not when it commits. Transaction A inserts id 7 and stays open; B inserts id 8
 * and commits; a poll sees 8, moves its cursor past 8; A commits and 7 is never read.
 *
 * What the database tells us at each poll, in this order (the order matters):
 *   1. for each incrementing stream, a visible id: MAX(id) beyond the cursor;
 *   2. `now`, its clock, and the start of the oldest transaction still open that could matter
 *      (MySQL/MariaDB information_schema.INNODB_TRX, in whole seconds; PostgreSQL
 *      pg_stat_activity.xact_start). Which ones matter differs: MySQL stamps NOW() per statement,
 *      so a transaction that has neither written, locked, nor runs a statement other than a read
 *      cannot hold an uncommitted stamp or id (a backup's long consistent read does not stall us);
 *      PostgreSQL's now() is the transaction's start, so for timestamps every open transaction
 *      counts, and for ids those with an xid or a statement other than a read running;
 *   3. for ids, also the transactions that drew one before writing anything (BEGIN; nextval;
 *      …; INSERT … VALUES ($id)), from when they drew it or earlier: PostgreSQL's nextval gives no
 *      xid but locks the sequence until the transaction ends (pg_locks); MariaDB's NEXTVAL starts
 *      no InnoDB transaction but holds a write metadata lock on the sequence until it ends
 *      (METADATA_LOCK_INFO, with the lock's age). An id drawn in one transaction and inserted in
 *      another shows nowhere.
 *
 * Timestamps. A transaction stamps rows with NOW() at or after its start (PostgreSQL's now() IS its
 * start; MySQL's is the start of the statement). So every row still uncommitted has a timestamp at
 * or after the oldest open start, and every transaction begun after `now` stamps later than `now`:
 * rows stamped strictly before min(oldest, now) are all committed. `delayMs` is subtracted on top:
 * MySQL's statement may stamp a little before InnoDB registers its transaction, INNODB_TRX is a
 * cache refreshed every 100 ms, and application clocks and replicas lag. See timeBound().
 *
 * Ids. An id is handed out from a counter that only grows, so every id handed out after a moment
 * t exceeds every id visible at t. A sample (t, v), v read before t, is therefore safe once no
 * transaction that began before t is still open: then all ids up to v are committed or rolled
 * back. The horizon is the newest sample taken strictly before the oldest open transaction began,
 * and at least `delayMs` old (the same INNODB_TRX staleness). See idBound().
 *
 * Limits, in docs/query.md too: values the application computes itself (its own clock, ids drawn
 * in one transaction and inserted in another, as ORM block optimizers and PostgreSQL sequences
 * with CACHE > 1 do, explicit ids below the counter) can break the ordering these rules rely on;
 * delayMs buys margin for the first two. A server clock stepped
 * backwards, and on a replica every transaction of the primary, are invisible to these rules:
 * only delayMs protects there. Without the privilege to list other sessions' transactions the
 * horizon is delayMs alone, and without MariaDB's lock listing ids drawn before the INSERT are
 * unseen; the connector says so at start.
 */
import type { Json } from "../../runtime/connector.js";

/** What the database said at one poll; instants in microseconds since 1970 on the server clock. */
export interface Probe {
  /** The server clock when the poll began, before open transactions were listed. */
  now: number;
  /** The start of the oldest other transaction that may still commit rows stamped before `now` (MySQL: rounded down to the second); null for none. */
  oldest: number | null;
  /** The start of the oldest other transaction that may hold ids it has not committed; null for none. */
  oldestWriter: number | null;
  /** Set while a transaction with an unknown start may still commit (a prepared two-phase transaction): nothing is safe. */
  frozenBy?: string;
}

/** The earlier of two instants, either of which may be unknown (null). */
export function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

interface Sample {
  at: number;
  value: Json;
}

/** Samples kept per stream while an old transaction holds the horizon; thinned beyond this (any subset is as safe). */
const MAX_SAMPLES = 256;

export class SafeHorizon {
  private probe: Probe | undefined;
  private readonly samples = new Map<string, Sample[]>();

  constructor(private readonly delayMicros: number) {}

  get lastProbe(): Probe | undefined {
    return this.probe;
  }

  /** Records visible ids (read before `probe.now`) and the probe itself. */
  update(probe: Probe, visibleIds: ReadonlyMap<string, Json>): void {
    this.probe = probe;
    for (const [stream, value] of visibleIds) {
      if (value === null) continue;
      let list = this.samples.get(stream);
      if (!list) this.samples.set(stream, (list = []));
      list.push({ at: probe.now, value });
      if (list.length > MAX_SAMPLES) this.samples.set(stream, list.filter((_, i) => i === 0 || i % 2 === 1 || i === list.length - 1));
    }
  }

  /** Rows stamped strictly before this instant are committed; null while nothing is known to be. */
  timeBound(): number | null {
    const p = this.probe;
    if (!p || p.frozenBy) return null;
    return Math.min(p.oldest ?? p.now, p.now) - this.delayMicros;
  }

  /** Every id up to this value is committed (or rolled back); null while no sample is old enough. */
  idBound(stream: string): Json {
    const p = this.probe;
    const list = this.samples.get(stream);
    if (!p || p.frozenBy || !list) return null;
    const latest = p.now - this.delayMicros;
    let chosen = -1;
    for (let i = list.length - 1; i >= 0; i--) {
      const at = list[i]!.at;
      if (at <= latest && (p.oldestWriter === null || at < p.oldestWriter)) {
        chosen = i;
        break;
      }
    }
    if (chosen < 0) return null;
    // older samples can never be chosen again: the oldest open start and the clock only move on
    if (chosen > 0) list.splice(0, chosen);
    return list[0]!.value;
  }

  /** The instant the id horizon was sampled at (for the lag metric); null without one. */
  idBoundAt(stream: string): number | null {
    return this.idBound(stream) === null ? null : this.samples.get(stream)![0]!.at;
  }
}
