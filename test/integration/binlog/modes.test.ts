import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Source, SourceBatch } from "../../../src/runtime/connector.js";
import { binlogSource, scratchDatabase } from "./support.js";

describe("binlog snapshot modes", () => {
  const db = scratchDatabase();
  const sources: Source[] = [];
  const open = async (mode: string): Promise<Source> => {
    const source = binlogSource(db.name, { snapshot: { mode } });
    sources.push(source);
    await source.open(null);
    return source;
  };
  const drain = async (source: Source, batches: number): Promise<(SourceBatch | null)[]> => {
    const out: (SourceBatch | null)[] = [];
    for (let i = 0; i < batches; i++) out.push(await source.read());
    return out;
  };
  const ops = (batches: (SourceBatch | null)[]) => batches.flatMap((b) => b?.records.map((r) => (r.value as { op: string }).op) ?? []);

  beforeAll(async () => {
    await db.conn.query("CREATE TABLE t (id INT PRIMARY KEY)");
    await db.conn.query("INSERT INTO t VALUES (1), (2), (3)");
  });

  afterAll(async () => {
    await Promise.all(sources.map((s) => s.close()));
  });

  it("initial_only copies the tables and then has nothing more, ever", async () => {
    const batches = await drain(await open("initial_only"), 3);
    expect(ops(batches)).toEqual(["r", "r", "r"]);
    expect(batches.at(-1)).toBeNull();
  });

  it("never copies nothing and streams from the end of the log", async () => {
    const source = await open("never");
    await source.read();
    await db.conn.query("INSERT INTO t VALUES (4)");
    expect(ops(await drain(source, 1))).toEqual(["c"]);
  });
});
