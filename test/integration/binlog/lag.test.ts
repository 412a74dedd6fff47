/**
 * The source lag an operator alerts on (`liberator_source_lag_seconds > 300`): a binlog source that
 * has read everything the server has is 0 behind, however long ago the last change was.
 */
import type { Connection } from "mysql2/promise";
import { afterAll, describe, expect, it } from "vitest";
import { uniqueName, waitFor } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { binlogConnector, scratchDatabase, untilStreaming } from "./support.js";

const IDLE_MS = 12_000;
/** Seconds of lag a stream at the head may show: binlog event times are whole seconds. */
const NEAR_ZERO = 3;

async function lagOf(daemon: Daemon, connector: string): Promise<number | undefined> {
  const text = await (await fetch(`${daemon.adminUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("liberator_source_lag_seconds{") && l.includes(`connector="${connector}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** A daemon with one binlog connector on a table `orders` of `db`, once it streams. */
async function streamingDaemon(db: { name: string; conn: Connection }, name: string): Promise<Daemon> {
  await db.conn.query("CREATE TABLE orders (id INT PRIMARY KEY, total DECIMAL(10,2) NOT NULL)");
  const d = await startDaemon({ connectors: [binlogConnector(name, db.name)] });
  await untilStreaming(d, name);
  return d;
}

/** One row written to `orders`, and its record in Kafka. */
async function oneChange(db: { conn: Connection }, d: Daemon, name: string): Promise<void> {
  await db.conn.query("INSERT INTO orders VALUES (1, 9.99)");
  await waitFor(async () => ((await d.status(name))?.records ?? 0) >= 1, { timeoutMs: 60_000, message: "the change in Kafka" });
}

describe("binlog source lag on an idle, caught-up database", () => {
  const db = scratchDatabase();
  let daemon: Daemon | undefined;
  afterAll(() => daemon?.stop("SIGTERM"));

  it(`stays near 0 over ${IDLE_MS / 1000} s of silence after the last change, and the status says the same`, async () => {
    const name = uniqueName("idle");
    const d = (daemon = await streamingDaemon(db, name));
    // one change read from the log, then nothing more
    await oneChange(db, d, name);
    // the first heartbeat (every 500 ms) after the change marks the stream caught up: 0 on an idle
    // server; on one that other tests write to, the time since the last event read was written
    // (whole seconds in the binlog), so a little above 0 at the head, never the silence's length
    await waitFor(async () => ((await lagOf(d, name)) ?? Infinity) < NEAR_ZERO, { timeoutMs: 30_000, message: "lag near 0 once caught up" });

    const samples: number[] = [];
    const until = Date.now() + IDLE_MS;
    while (Date.now() < until) {
      samples.push((await lagOf(d, name))!);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(samples.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...samples)).toBeLessThan(NEAR_ZERO);
    expect(((await d.status(name))?.lag as { seconds?: number } | undefined)?.seconds).toBeLessThan(NEAR_ZERO);

    // a change after the silence is measured from its own time, not the silence
    await db.conn.query("INSERT INTO orders VALUES (2, 19.99)");
    await waitFor(async () => ((await d.status(name))?.records ?? 0) >= 2, { timeoutMs: 60_000, message: "the second change in Kafka" });
    expect(await lagOf(d, name)).toBeLessThan(IDLE_MS / 1000);
  });
});

describe("binlog source lag while the server is busy with tables it does not capture", () => {
  const db = scratchDatabase();
  const other = scratchDatabase();
  let daemon: Daemon | undefined;
  afterAll(() => daemon?.stop("SIGTERM"));

  // the server sends no heartbeat while it has events to send, so only the events read say how far behind the stream is
  it(`stays near 0 over ${IDLE_MS / 1000} s of writes to another database after the last captured change`, async () => {
    const name = uniqueName("busy");
    await other.conn.query("CREATE TABLE noise (id INT AUTO_INCREMENT PRIMARY KEY, at DATETIME(6) NOT NULL)");
    const d = (daemon = await streamingDaemon(db, name));
    await oneChange(db, d, name);

    const samples: number[] = [];
    const until = Date.now() + IDLE_MS;
    let writes = 0;
    let nextSample = Date.now() + 2000;
    while (Date.now() < until) {
      await other.conn.query("INSERT INTO noise (at) VALUES (NOW(6))");
      writes++;
      if (Date.now() >= nextSample) {
        samples.push((await lagOf(d, name))!);
        nextSample += 1000;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(writes).toBeGreaterThan(IDLE_MS / 1000);
    expect(samples.length).toBeGreaterThanOrEqual(5);
    // before, it grew with the time since the captured change: up to the whole 12 s
    expect(Math.max(...samples)).toBeLessThan(NEAR_ZERO);
  });
});
