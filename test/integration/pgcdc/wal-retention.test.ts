/**
 * The WAL a slot pins while its captured table is idle and another table is busy: pgoutput sends
 * nothing for a table outside the publication, so only heartbeats move the slot. Two connectors,
 * one with heartbeats and one without, each capture an idle table beside a busy one under the same
 * load; the figures are the server's (pg_replication_slots) and the connectors' metric. Each has a
 * database of its own: a heartbeat is a logical message of its database, which every slot of that
 * database reads, so one connector's heartbeats would move the other's slot too. The restart LSN moves when the server logs the running transactions (the background
 * writer does so every 15 s while the database is busy), so the test waits for that, as a user would.
 */
import type pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { uniqueName, waitFor } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { untilStreaming } from "../binlog/support.js";
import { statusOf } from "../status/support.js";
import { pgcdcConnector, scratchDatabase } from "./support.js";

/** WAL each half of the load writes; above the off connector's warning threshold. */
const HALF_BYTES = 6 * 1024 * 1024;
const WARN_BYTES = 1024 * 1024;

const lsnOf = async (client: pg.Client): Promise<bigint> => BigInt((await client.query<{ n: string }>("SELECT (pg_current_wal_lsn() - '0/0')::text AS n")).rows[0]!.n);

interface SlotFigures {
  restart: bigint;
  confirmed: bigint;
}

async function slotOf(client: pg.Client, slot: string): Promise<SlotFigures> {
  const { rows } = await client.query<{ restart: string; confirmed: string }>(
    "SELECT (restart_lsn - '0/0')::text AS restart, (confirmed_flush_lsn - '0/0')::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1",
    [slot],
  );
  expect(rows, `slot ${slot}`).toHaveLength(1);
  return { restart: BigInt(rows[0]!.restart), confirmed: BigInt(rows[0]!.confirmed) };
}

async function retainedMetric(daemon: Daemon, connector: string): Promise<number | undefined> {
  const text = await (await fetch(`${daemon.adminUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("liberator_source_retained_bytes{") && l.includes(`connector="${connector}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** Inserts into both databases' uncaptured tables until `bytes` more WAL is written (WAL is the cluster's, one for all databases). */
async function busy(clients: pg.Client[], bytes: number): Promise<void> {
  const until = (await lsnOf(clients[0]!)) + BigInt(bytes);
  while ((await lsnOf(clients[0]!)) < until) {
    for (const client of clients) await client.query("INSERT INTO busy (payload) SELECT repeat(md5(i::text), 8) FROM generate_series(1, 100) AS i");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("pgcdc slot beside a busy uncaptured table", () => {
  const dbOn = scratchDatabase();
  const dbOff = scratchDatabase();
  let daemon: Daemon | undefined;
  afterAll(() => daemon?.stop("SIGTERM"));

  it("keeps the retained WAL bounded with heartbeats, and lets it grow with the load without them", async () => {
    const clients = [dbOn.client, dbOff.client];
    for (const client of clients) {
      await client.query("CREATE TABLE idle (id INT PRIMARY KEY, label TEXT NOT NULL)");
      await client.query("CREATE TABLE busy (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL)");
    }
    const db = dbOn;
    const on = uniqueName("pgcdc_hb_on");
    const off = uniqueName("pgcdc_hb_off");
    const only = { include: ["public.idle"], statusIntervalMs: 500 };
    daemon = await startDaemon({
      connectors: [
        pgcdcConnector(on, dbOn.name, { ...only, heartbeat: { intervalMs: 500 } }),
        pgcdcConnector(off, dbOff.name, { ...only, heartbeat: { intervalMs: 0, warnRetainedBytes: WARN_BYTES } }),
      ],
    });
    await daemon.waitReady();
    await untilStreaming(daemon, on);
    await untilStreaming(daemon, off);
    const d = daemon;

    const start = await lsnOf(db.client);
    await busy(clients, HALF_BYTES);
    const mid = await lsnOf(db.client);
    await busy(clients, HALF_BYTES);
    const end = await lsnOf(db.client);
    const written = Number(end - start);

    // with heartbeats the slot lets go of the first half's WAL (and, once committed, of nearly all of it)
    const slotOn = await waitFor(
      async () => {
        const s = await slotOf(db.client, `liberator_${on}`);
        return s.restart > mid && s.confirmed >= end ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, message: "the heartbeat slot's restart LSN past the first half of the load" },
    );
    expect(Number(slotOn.confirmed - slotOn.restart)).toBeLessThan(written);

    // without them it keeps all of it: nothing it captures changed, so it confirms nothing
    const slotOff = await slotOf(db.client, `liberator_${off}`);
    expect(slotOff.restart).toBeLessThanOrEqual(start);
    expect(slotOff.confirmed).toBeLessThanOrEqual(start);

    // the metric says the same: the server's WAL end minus each slot's restart LSN
    await waitFor(async () => ((await retainedMetric(d, off)) ?? 0) >= written, { timeoutMs: 30_000, message: "the off connector's retained WAL metric at the load's size" });
    await waitFor(
      async () => {
        const metric = (await retainedMetric(d, on)) ?? Infinity;
        return metric < Number((await lsnOf(db.client)) - mid);
      },
      { timeoutMs: 30_000, message: "the heartbeat connector's metric under the second half" },
    );
    expect(await retainedMetric(d, on)).toBeLessThan(written);

    // and so do /status and the log: the warning once the threshold is crossed, once
    const status = await statusOf(d, off);
    expect(status?.stream?.retainedBytes).toBeGreaterThanOrEqual(written);
    expect(status?.stream?.bytesBehind).toBeGreaterThanOrEqual(written);
    expect((await statusOf(d, on))?.stream?.retainedBytes).toBeLessThan(written);
    const warnings = d
      .output()
      .split("\n")
      .filter((l) => l.includes(off) && l.includes("retains more WAL than heartbeat.warnRetainedBytes"));
    expect(warnings).toHaveLength(1);
  });
});
