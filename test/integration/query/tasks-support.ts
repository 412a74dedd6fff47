/**
 * What the tests of a query connector split over tasks share: four tables, the running tasks as
 * the admin API lists them, and the checks that each table has one owner and each row is in Kafka
 * exactly once.
 */
import { expect } from "vitest";
import { waitFor } from "../../harness/index.js";
import type { Daemon } from "../../support/daemon.js";
import { readDecoded, type TestDatabase } from "./fixtures.js";

export const TABLES = ["t0", "t1", "t2", "t3"];

export async function createTables(db: TestDatabase): Promise<void> {
  for (const t of TABLES) await db.exec(`CREATE TABLE ${t} (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)`);
}

/** `n` more rows in each table. */
export async function insertRows(db: TestDatabase, n: number): Promise<void> {
  for (const t of TABLES) await db.exec(`INSERT INTO ${t} (v) SELECT seq FROM seq_1_to_${n}`);
}

export interface TaskView {
  name: string;
  state: string;
  worker: string | null;
  task: { index: number; count: number };
  details: { tables?: string[] };
}

/** The running tasks of a connector, by index, once `count` of them run (and `until` holds of them). */
export async function runningTasks(daemon: Daemon, name: string, count: number, until: (views: TaskView[]) => boolean = () => true, timeoutMs = 30_000): Promise<TaskView[]> {
  return waitFor(
    async () => {
      const views = ((await daemon.statuses()) as unknown as TaskView[]).filter((v) => v.name === name && v.state === "running" && v.task.count === count);
      return views.length === count && until(views) ? views.sort((a, b) => a.task.index - b.task.index) : undefined;
    },
    { timeoutMs, intervalMs: 100, message: `${count} task(s) of ${name} running` },
  );
}

/** A call of a daemon's admin API: its status and JSON answer. */
export async function adminCall(daemon: Daemon, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${daemon.adminUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The tasks of a connector once `count` of them are in `state` on `workers` different workers. */
export async function tasksIn(daemon: Daemon, name: string, state: string, count: number, workers: number): Promise<TaskView[]> {
  return waitFor(
    async () => {
      const views = ((await daemon.statuses()) as unknown as TaskView[]).filter((v) => v.name === name && v.state === state);
      return views.length === count && new Set(views.map((v) => v.worker)).size === workers ? views : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100, message: `${count} task(s) of ${name} ${state} on ${workers} worker(s)` },
  );
}

/** Each table is read by exactly one task. */
export function expectTablesSplit(views: TaskView[], schema: string): void {
  const held = views.map((v) => v.details.tables ?? []);
  for (const tables of held) expect(tables.length).toBeGreaterThan(0);
  expect(held.flat().sort()).toEqual(TABLES.map((t) => `${schema}.${t}`));
}

/** Each table's topic holds the table's rows, each exactly once (read_committed). */
export async function expectEachRowOnce(db: TestDatabase, adminUrl: string, topicPrefix: string): Promise<void> {
  for (const t of TABLES) {
    // a multi-row INSERT draws ids in blocks (innodb_autoinc_lock_mode 2): the table says which exist
    const rows = ((await db.exec(`SELECT id FROM ${t} ORDER BY id`)) as { id: number }[]).map((r) => Number(r.id));
    const records = await readDecoded(adminUrl, `${topicPrefix}.${t}`, rows.length, 60_000);
    const ids = records.map((r) => Number(r.key!.id)).sort((a, b) => a - b);
    const twice = ids.filter((id, i) => i > 0 && ids[i - 1] === id);
    expect({ table: t, twice, count: ids.length }).toEqual({ table: t, twice: [], count: rows.length });
    expect(ids).toEqual(rows);
  }
}
