/**
 * Progress as data: `GET /status` and its live stream `/status/stream` during a real snapshot and
 * after it, as the status page and `liberator status` read them.
 */
import { afterAll, describe, expect, it } from "vitest";
import { followStatus } from "../../../src/commands/status-stream.js";
import type { StatusDocument } from "../../../src/runtime/control.js";
import { waitFor } from "../../harness/index.js";
import { scratchDatabase } from "../binlog/support.js";
import { slowSnapshot, statusOf, untilTable, type SlowSnapshot } from "./support.js";

/** The documents a `/status/stream` sends until `enough` says stop. */
async function streamed(url: string, enough: (docs: StatusDocument[]) => boolean, timeoutMs = 60_000): Promise<StatusDocument[]> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), timeoutMs);
  const docs: StatusDocument[] = [];
  await followStatus(url, {}, (doc) => {
    docs.push(doc);
    if (enough(docs)) stop.abort();
  }, stop.signal).finally(() => clearTimeout(timer));
  return docs;
}

describe("GET /status and /status/stream", () => {
  const db = scratchDatabase();
  let s: SlowSnapshot | undefined;
  afterAll(() => s?.daemon.stop("SIGTERM"));

  it("show a snapshot's rows done, estimate, rate, ETA and chunk as it goes, then the stream's distance, rate and schemas", async () => {
    s = await slowSnapshot(db, { rows: 12_000, rowsPerSecond: 1500, chunkSize: 250 });
    const snap = s;
    const early = await untilTable(snap, (t) => t.done > 1000 && t.rowsPerSecond !== null, "a few chunks copied");
    expect(early.kind).toBe("initial");
    // ids 1…rows: the key range read so far refines InnoDB's guess to the table's count
    expect(early.estimated).toBe(snap.rows);
    expect(early.rowsPerSecond).toBeGreaterThan(0);
    expect(early.etaSeconds).toBeGreaterThan(0);
    expect(early.chunk).toEqual([early.done]);
    expect(early.finishedAt).toBeNull();
    expect((await statusOf(snap.daemon, snap.connector))?.rowsPerSecond).toBeGreaterThan(0);

    // the stream sends each change: the rows done grow from one document to a later one
    const docs = await streamed(`${snap.daemon.adminUrl}/status/stream?everyMs=200`, (d) => d.length >= 4);
    const dones = docs.map((d) => d.connectors.find((c) => c.name === snap.connector)?.snapshot?.[snap.table]?.done ?? 0);
    expect(dones.at(-1)).toBeGreaterThan(dones[0]!);

    const finished = await untilTable(snap, (t) => t.finishedAt !== null, "the snapshot done", 120_000);
    expect(finished).toMatchObject({ done: snap.rows, estimated: snap.rows, etaSeconds: 0 });

    // streaming: a change is read, and the status says when it was made and how far the log is
    await db.conn.query("INSERT INTO orders VALUES (1000000, 'late', 1.00)");
    const streaming = await waitFor(
      async () => {
        const c = await statusOf(snap.daemon, snap.connector);
        return c?.stream?.lastEventAt && c.stream.bytesBehind !== null ? c : undefined;
      },
      { timeoutMs: 60_000, message: "the stream's progress" },
    );
    expect(Date.parse(streaming.stream!.lastEventAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(streaming.stream!.bytesBehind).toBeGreaterThanOrEqual(0);
    expect(streaming.state).toBe("running");
    expect(streaming.lastError).toBeNull();
    // the schema ids its subjects use (key and value of the table's topic)
    expect(streaming.schemas.filter((x) => x.subject.endsWith(".orders-value") || x.subject.endsWith(".orders-key")).length).toBe(2);
  });
});
