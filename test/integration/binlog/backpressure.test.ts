import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Source } from "../../../src/runtime/connector.js";
import { readRecords } from "../../acceptance/source-suite.js";
import { waitFor } from "../../harness/index.js";
import { binlogSource, scratchDatabase } from "./support.js";

describe("binlog stream flow control", () => {
  const db = scratchDatabase();
  const sources: Source[] = [];

  const open = async (extra: Record<string, unknown>): Promise<Source> => {
    const source = binlogSource(db.name, { include: [`${db.name}.captured`], snapshot: { mode: "never" }, ...extra });
    sources.push(source);
    await source.open(null);
    await source.read(); // starts the stream at the end of the log
    return source;
  };
  const stream = (s: Source) => (s.status!() as { stream: { queued: number; paused: boolean } }).stream;

  beforeAll(async () => {
    await db.conn.query("CREATE TABLE captured (id INT PRIMARY KEY, payload VARCHAR(100) NOT NULL); CREATE TABLE other (id INT PRIMARY KEY)");
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

  it("moves its position on transactions of tables it does not capture, so an idle table pins no old binlog", async () => {
    const source = await open({});
    const before = (await source.read())!.position as { pos: number };
    for (let i = 1; i <= 10; i++) await db.conn.query("INSERT INTO other VALUES (?)", [i]);
    const batch = await source.read();
    expect(batch!.records).toEqual([]);
    expect((batch!.position as { pos: number }).pos).toBeGreaterThan(before.pos);
  });
});
