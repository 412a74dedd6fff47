/**
 * What the status tests share: a binlog connector copying a table at a steady pace (the snapshot's
 * own rate limit, in small chunks), so a test sees its progress move for a while.
 */
import type { Connection } from "mysql2/promise";
import { uniqueName, waitFor } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { binlogConnector } from "../binlog/support.js";

export interface SlowSnapshot {
  daemon: Daemon;
  connector: string;
  /** "db.table", as the status names it. */
  table: string;
  rows: number;
  /** The admin token, when the test's config sets one. */
  token?: string;
}

export interface StatusTable {
  kind: string;
  done: number;
  estimated: number;
  rowsPerSecond: number | null;
  etaSeconds: number | null;
  chunk: unknown;
  updatedAt: string;
  finishedAt: string | null;
}

export interface StatusConnector {
  name: string;
  state: string;
  snapshot: Record<string, StatusTable> | null;
  stream: { secondsBehind: number | null; bytesBehind: number | null; retainedBytes: number | null; lastEventAt: string | null } | null;
  rowsPerSecond: number;
  schemas: { subject: string; id: number }[];
  lastError: unknown;
  [key: string]: unknown;
}

/** Fills `orders` with `rows` rows (ids 1…rows) and starts a daemon copying it at `rowsPerSecond`. */
export async function slowSnapshot(
  db: { name: string; conn: Connection },
  options: { rows: number; rowsPerSecond: number; chunkSize: number; root?: Record<string, unknown> },
): Promise<SlowSnapshot> {
  await db.conn.query("CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(40) NOT NULL, total DECIMAL(10,2) NOT NULL)");
  await db.conn.query(`INSERT INTO orders SELECT seq, CONCAT('customer-', seq % 97), seq / 100 FROM seq_1_to_${options.rows}`);
  const connector = uniqueName("status");
  const daemon = await startDaemon({
    connectors: [binlogConnector(connector, db.name, { snapshot: { chunkSize: options.chunkSize, maxRowsPerSecond: options.rowsPerSecond } })],
    ...(options.root ? { root: options.root } : {}),
  });
  const token = (options.root?.admin as { token?: string } | undefined)?.token;
  return { daemon, connector, table: `${db.name}.orders`, rows: options.rows, ...(token ? { token } : {}) };
}

export async function statusOf(daemon: Daemon, connector: string, token?: string): Promise<StatusConnector | undefined> {
  const res = await fetch(`${daemon.adminUrl}/status`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const doc = (await res.json()) as { connectors: StatusConnector[] };
  return doc.connectors.find((c) => c.name === connector);
}

/** Waits until the table's copy satisfies `ok`, and returns its progress then. */
export async function untilTable(s: SlowSnapshot, ok: (t: StatusTable) => boolean, message: string, timeoutMs = 60_000): Promise<StatusTable> {
  return waitFor(
    async () => {
      const t = (await statusOf(s.daemon, s.connector, s.token))?.snapshot?.[s.table];
      return t && ok(t) ? t : undefined;
    },
    { timeoutMs, intervalMs: 100, message },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${s.daemon.output().slice(-3000)}`);
  });
}
