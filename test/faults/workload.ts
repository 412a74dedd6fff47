/**
 * The application the faults happen under: concurrent writers on the source MariaDB, each running
 * transactions of 2–7 statements (inserts, updates, deletes, primary-key changes on a one-column
 * and a two-column key), one in ten rolled back. Every committed change of a row raises its
 * version `v`, and keys are never reused, so a change is named by (key, v) and can be counted.
 *
 * The writers connect to MariaDB directly, not through the proxy: a cut between Liberator and the
 * database leaves the application writing, as in production. A MariaDB restart stops them too;
 * they reconnect and go on. What they believe they committed does not matter: the comparison reads
 * the source table itself.
 */
import type { Connection } from "mysql2/promise";

const REGIONS = ["eu", "us", "ap", "af"];

export interface WorkloadStats {
  commits: number;
  rollbacks: number;
  /** Transactions that failed (deadlock, lost connection) and were rolled back by the server. */
  failed: number;
  reconnects: number;
}

export interface Workload {
  /** Starts `writers` writers; resolves at once. */
  start(writers?: number): void;
  /** Stops the writers after their current transaction; resolves with what they did since start(). */
  stop(): Promise<WorkloadStats>;
  stats(): WorkloadStats;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function workload(connect: () => Promise<Connection>, first: { id: number; seq: number }): Workload {
  let nextId = first.id;
  let nextSeq = first.seq;
  /** A key written lately: most picks hit a live row, some a deleted or moved one (no row changes). */
  const recentId = () => Math.max(1, nextId - 1 - Math.floor(Math.random() * 400));
  const recentPair = (): [string, number] => [pick(REGIONS), Math.max(1, nextSeq - 1 - Math.floor(Math.random() * 300))];

  const statements: [weight: number, statement: () => [string, unknown[]]][] = [
    [30, () => [`INSERT INTO items (id, v, label, amount) VALUES (?, 1, ?, ?)`, [nextId++, `new ${nextId}`, (Math.random() * 1000).toFixed(2)]]],
    [25, () => [`UPDATE items SET v = v + 1, label = ?, amount = amount + 1.05 WHERE id = ?`, [`upd ${Date.now() % 100_000}`, recentId()]]],
    [8, () => [`DELETE FROM items WHERE id = ?`, [recentId()]]],
    [7, () => [`UPDATE items SET id = ?, v = v + 1 WHERE id = ?`, [nextId++, recentId()]]],
    [12, () => [`INSERT INTO pairs (region, seq, v, note) VALUES (?, ?, 1, ?)`, [pick(REGIONS), nextSeq++, Math.random() < 0.3 ? null : "fresh"]]],
    [10, () => [`UPDATE pairs SET v = v + 1, note = ? WHERE region = ? AND seq = ?`, [`note ${nextSeq}`, ...recentPair()]]],
    [4, () => [`DELETE FROM pairs WHERE region = ? AND seq = ?`, recentPair()]],
    [4, () => [`UPDATE pairs SET region = ?, seq = ?, v = v + 1 WHERE region = ? AND seq = ?`, [pick(REGIONS), nextSeq++, ...recentPair()]]],
  ];
  const totalWeight = statements.reduce((sum, [w]) => sum + w, 0);
  const statement = () => {
    let r = Math.random() * totalWeight;
    for (const [w, make] of statements) {
      if ((r -= w) < 0) return make();
    }
    return statements[0]![1]();
  };

  let stats: WorkloadStats = { commits: 0, rollbacks: 0, failed: 0, reconnects: 0 };
  let running = false;
  let writers: Promise<void>[] = [];

  async function writer(): Promise<void> {
    let conn: Connection | undefined;
    while (running) {
      try {
        if (!conn) {
          conn = await connect();
          // a session the server ends while idle reports it as an event, which nothing else listens to
          conn.on("error", () => undefined);
        }
        await conn.query("START TRANSACTION");
        const count = 2 + Math.floor(Math.random() * 6);
        for (let i = 0; i < count; i++) await conn.query(...statement());
        if (Math.random() < 0.1) {
          await conn.query("ROLLBACK");
          stats.rollbacks++;
        } else {
          await conn.query("COMMIT");
          stats.commits++;
        }
      } catch {
        stats.failed++;
        // a deadlock or lock wait timeout leaves the session usable; a lost or killed one does not
        const usable = await conn?.query("ROLLBACK").then(() => true, () => false);
        if (!usable) {
          conn?.destroy();
          conn = undefined;
          stats.reconnects++;
          await sleep(200);
        }
      }
      // a steady trickle, not a flood: each comparison reads the topics from their start
      await sleep(40 + Math.random() * 60);
    }
    await conn?.end().catch(() => conn?.destroy());
  }

  return {
    start(count = 3) {
      if (running) throw new Error("the workload is already running");
      running = true;
      stats = { commits: 0, rollbacks: 0, failed: 0, reconnects: 0 };
      writers = Array.from({ length: count }, () => writer());
    },
    async stop() {
      running = false;
      await Promise.all(writers);
      writers = [];
      return { ...stats };
    },
    stats: () => ({ ...stats }),
  };
}
