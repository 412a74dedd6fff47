/**
 * Progress as data: `GET /status` and its live stream `/status/stream` during a real snapshot and
 * after it, as the status page and `liberator status` read them.
 */
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../../harness/index.js";
import { scratchDatabase } from "../binlog/support.js";
import { slowSnapshot, statusOf, untilTable, type SlowSnapshot, type StatusConnector } from "./support.js";

/** The documents a `/status/stream` sends until `enough` says stop. */
async function streamed(url: string, enough: (docs: { connectors: StatusConnector[] }[]) => boolean, timeoutMs = 60_000) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const docs: { connectors: StatusConnector[] }[] = [];
  try {
    const res = await fetch(url, { signal: abort.signal });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const bytes of res.body!) {
      buffer += decoder.decode(bytes as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split("\n").find((l) => l.startsWith("data: "));
        if (data) docs.push(JSON.parse(data.slice(6)) as { connectors: StatusConnector[] });
      }
      if (enough(docs)) break;
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
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
