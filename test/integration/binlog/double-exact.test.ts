import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChangeRecord, Source } from "../../../src/runtime/connector.js";
import { readRecords } from "../../acceptance/source-suite.js";
import { binlogSource, scratchDatabase } from "./support.js";

/*
 * Issue 15, Found 7: the snapshot read DOUBLE through mysql2's text protocol, whose own float parser
 * is one unit in the last place off for about a quarter of such values (2,857 of these 10,000),
 * while the binlog carries the exact 8 bytes. Division is correctly rounded in MariaDB and in
 * JavaScript alike, so n / 7 computed here is the value the table holds.
 */
const ROWS = 10_000;
const FIRST = 660_001;
const STREAMED = 2000;
const exact = (id: number) => (FIRST - 1 + id) / 7;

function inexact(records: readonly ChangeRecord[]): string[] {
  const wrong: string[] = [];
  for (const r of records) {
    const after = (r.value as { after: { id: number; v: number } } | null)?.after;
    if (after && !Object.is(after.v, exact(after.id))) wrong.push(`id ${after.id}: got ${after.v}, the table holds ${exact(after.id)}`);
  }
  return wrong;
}

describe("DOUBLE values of n / 7 (issue 15, Found 7)", () => {
  const db = scratchDatabase();
  let source: Source;

  beforeAll(async () => {
    await db.conn.query("CREATE TABLE d (id INT PRIMARY KEY, v DOUBLE NOT NULL)");
    await db.conn.query(`INSERT INTO d (id, v) SELECT seq, CAST(${FIRST - 1} + seq AS DOUBLE) / 7 FROM seq_1_to_${ROWS}`);
    // the table holds what this test expects, read through the binary protocol
    const [held] = await db.conn.execute("SELECT id, v FROM d");
    expect((held as { id: number; v: number }[]).filter((r) => r.v !== exact(r.id))).toEqual([]);
    source = binlogSource(db.name, { include: [`${db.name}.d`], snapshot: { chunkSize: 3000 } });
    await source.open(null);
  });

  afterAll(async () => {
    await source?.close();
  });

  it("arrives bit for bit through the snapshot", async () => {
    const { records } = await readRecords(source, ROWS, 120_000);
    expect(records).toHaveLength(ROWS);
    expect(inexact(records)).toEqual([]);
  });

  it("arrives bit for bit through the stream", async () => {
    await db.conn.query(`INSERT INTO d (id, v) SELECT seq, CAST(${FIRST - 1} + seq AS DOUBLE) / 7 FROM seq_${ROWS + 1}_to_${ROWS + STREAMED}`);
    const { records } = await readRecords(source, STREAMED, 120_000);
    expect(records.map((r) => (r.value as { op: string }).op)).toEqual(Array(STREAMED).fill("c"));
    expect(inexact(records)).toEqual([]);
  });

  it("arrives bit for bit through an incremental snapshot", async () => {
    await source.command!("snapshot", { table: `${db.name}.d` });
    const { records } = await readRecords(source, ROWS + STREAMED, 120_000);
    expect(records.map((r) => (r.value as { source: { snapshot: string } }).source.snapshot)).toEqual(Array(ROWS + STREAMED).fill("incremental"));
    expect(inexact(records)).toEqual([]);
  });
});
