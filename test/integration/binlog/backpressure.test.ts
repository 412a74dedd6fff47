import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Source } from "../../../src/runtime/connector.js";
import { readRecords } from "../../acceptance/source-suite.js";
import { waitFor } from "../../harness/index.js";
import { binlogSource, scratchDatabase } from "./support.js";

describe("binlog stream flow control", () => {
  const db = scratchDatabase();
  const sources: Source[] = [];

  const open = async (extra: Record<string, unknown>, table = "captured"): Promise<Source> => {
    const source = binlogSource(db.name, { include: [`${db.name}.${table}`], snapshot: { mode: "never" }, ...extra });
    sources.push(source);
    await source.open(null);
    await source.read(); // starts the stream at the end of the log
    return source;
  };
  const stream = (s: Source) => (s.status!() as { stream: { queued: number; queuedBytes: number; paused: boolean } }).stream;
  /** Rows of about 4 KB, each text its own. */
  const wideRows = (table: string, from: number, to: number) => `INSERT INTO ${table} SELECT seq, REPEAT(MD5(seq), 128) FROM seq_${from}_to_${to}`;

  beforeAll(async () => {
    await db.conn.query(
      "CREATE TABLE captured (id INT PRIMARY KEY, payload VARCHAR(100) NOT NULL); CREATE TABLE other (id INT PRIMARY KEY); CREATE TABLE wide (id INT PRIMARY KEY, body TEXT NOT NULL); CREATE TABLE copied (id INT PRIMARY KEY, body TEXT NOT NULL)",
    );
  });

  afterAll(async () => {
    await Promise.all(sources.map((s) => s.close()));
  });

  it("pauses reading while nobody takes its records, holding a bounded queue, and loses nothing when it resumes", async () => {
    const source = await open({ maxQueuedRows: 500 });
    for (let start = 1; start <= 20_000; start += 100) await db.conn.query(`INSERT INTO captured SELECT seq, REPEAT('x', 100) FROM seq_${start}_to_${start + 99}`);
    await waitFor(() => stream(source).paused, { timeoutMs: 10_000, message: "reading to pause" });
    await new Promise((r) => setTimeout(r, 500));
    // at most one event past the bound: a row event of 100 rows
    expect(stream(source).queued).toBeLessThanOrEqual(500 + 101);
    const { records } = await readRecords(source, 20_000);
    expect(new Set(records.map((r) => (r.key as { id: number }).id)).size).toBe(20_000);
    expect(stream(source).paused).toBe(false);
  });

  it("pauses on bytes when rows are wide, long before the row count is reached, and loses nothing when it resumes", async () => {
    const source = await open({ maxQueuedBytes: 1024 * 1024 }, "wide");
    for (let start = 1; start <= 3000; start += 100) await db.conn.query(wideRows("wide", start, start + 99));
    await waitFor(() => stream(source).paused, { timeoutMs: 10_000, message: "reading to pause" });
    await new Promise((r) => setTimeout(r, 500));
    // at most one event past the bound (a rows event is cut at about 8 KB)
    expect(stream(source).queuedBytes).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024);
    expect(stream(source).queued).toBeLessThan(1000);
    const { records } = await readRecords(source, 3000);
    expect(new Set(records.map((r) => (r.key as { id: number }).id)).size).toBe(3000);
    expect(stream(source).paused).toBe(false);
  });

  it("copies wide rows in chunks of batch.maxBytes, not of chunkSize rows", async () => {
    await db.conn.query(wideRows("copied", 1, 3000));
    const source = binlogSource(db.name, { include: [`${db.name}.copied`], snapshot: { mode: "initial_only", chunkSize: 10_000 } }, { maxBatchRecords: 10_000, maxBatchBytes: 1024 * 1024 });
    sources.push(source);
    await source.open(null);
    const sizes: number[] = [];
    const ids = new Set<number>();
    for (let batch = await source.read(); batch !== null; batch = await source.read()) {
      if (batch.records.length > 0) sizes.push(batch.records.length);
      for (const r of batch.records) ids.add((r.key as { id: number }).id);
    }
    expect(ids.size).toBe(3000);
    // 1 MB of rows of about 4,140 bytes (id, a 4,096-character text): about 250 a chunk
    expect(Math.max(...sizes)).toBeLessThanOrEqual(300);
    expect(sizes.length).toBeGreaterThanOrEqual(10);
  });

  it("moves its position on transactions of tables it does not capture, so an idle table pins no old binlog", async () => {
    const source = await open({});
    const before = (await source.read())!.position as { pos: number };
    for (let i = 1; i <= 10; i++) await db.conn.query("INSERT INTO other VALUES (?)", [i]);
    const batch = await source.read();
    expect(batch!.records).toEqual([]);
    expect((batch!.position as { pos: number }).pos).toBeGreaterThan(before.pos);
  });
});
