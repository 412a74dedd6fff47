/**
 * A pgcdc snapshot's progress in `GET /status`, as the binlog source reports its own: rows done,
 * the estimate (pg_class.reltuples, refined from the key range as chunks complete), rate, ETA and
 * the chunk it stands at; then, streaming, the slot's distance from the server's head.
 */
import { afterAll, describe, expect, it } from "vitest";
import { uniqueName, waitFor } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { statusOf, type StatusTable } from "../status/support.js";
import { pgcdcConnector, scratchDatabase } from "./support.js";

const ROWS = 12_000;

describe("pgcdc snapshot progress in GET /status", () => {
  const db = scratchDatabase();
  let daemon: Daemon | undefined;
  afterAll(() => daemon?.stop("SIGTERM"));

  it("shows rows done, the refined estimate, rate, ETA and chunk as the copy goes, then the slot's lag", async () => {
    await db.client.query("CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(40) NOT NULL)");
    // no ANALYZE: reltuples says nothing yet, so the estimate must come from the chunks read
    await db.client.query(`INSERT INTO orders SELECT i, 'customer-' || (i % 97) FROM generate_series(1, ${ROWS}) AS i`);
    const name = uniqueName("pgcdc_status");
    daemon = await startDaemon({ connectors: [pgcdcConnector(name, db.name, { snapshot: { chunkSize: 250, maxRowsPerSecond: 1500 } })] });
    const d = daemon;
    const table = "public.orders";
    const until = (ok: (t: StatusTable) => boolean, message: string, timeoutMs = 60_000) =>
      waitFor(
        async () => {
          const t = (await statusOf(d, name))?.snapshot?.[table];
          return t && ok(t) ? t : undefined;
        },
        { timeoutMs, intervalMs: 100, message },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${d.output().slice(-3000)}`);
      });

    const early = await until((t) => t.done > 1000 && t.rowsPerSecond !== null && t.finishedAt === null, "a few chunks copied");
    expect(early.kind).toBe("initial");
    // ids 1…ROWS: the key range read so far refines the estimate to the table's count
    expect(early.estimated).toBe(ROWS);
    expect(early.rowsPerSecond).toBeGreaterThan(0);
    expect(early.etaSeconds).toBeGreaterThan(0);
    expect((early.chunk as unknown[]).map(Number)).toEqual([early.done]);

    const finished = await until((t) => t.finishedAt !== null, "the snapshot done", 120_000);
    expect(finished).toMatchObject({ done: ROWS, estimated: ROWS, etaSeconds: 0 });

    await db.client.query("INSERT INTO orders VALUES (1000000, 'late')");
    const streaming = await waitFor(
      async () => {
        const c = await statusOf(d, name);
        return c?.stream && c.stream.bytesBehind !== null && c.stream.retainedBytes !== null && Number(c.records ?? 0) > ROWS ? c : undefined;
      },
      { timeoutMs: 60_000, message: "the stream's progress" },
    );
    expect(streaming.stream!.bytesBehind).toBeGreaterThanOrEqual(0);
    expect(streaming.stream!.retainedBytes).toBeGreaterThanOrEqual(streaming.stream!.bytesBehind!);
    expect(streaming.lastError).toBeNull();
  });
});
