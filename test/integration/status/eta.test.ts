/**
 * The ETA is worth reading: in a snapshot whose pace is steady (the snapshot's own rate limit, many
 * small chunks), the ETA the status shows at a quarter of the table is within 25 % of the time the
 * rest really took. Both times are the daemon's (the table's updatedAt and finishedAt), so the
 * test's own polling delay does not count.
 */
import { afterAll, describe, expect, it } from "vitest";
import { scratchDatabase } from "../binlog/support.js";
import { slowSnapshot, untilTable, type SlowSnapshot } from "./support.js";

describe("snapshot ETA", () => {
  const db = scratchDatabase();
  let s: SlowSnapshot | undefined;
  afterAll(() => s?.daemon.stop("SIGTERM"));

  it("shown at 25 % done, is within 25 % of the remaining time the snapshot then takes", async () => {
    s = await slowSnapshot(db, { rows: 30_000, rowsPerSecond: 1000, chunkSize: 100 });
    const snap = s;
    const quarter = await untilTable(snap, (t) => t.etaSeconds !== null && t.done >= t.estimated / 4, "a quarter of the table copied", 120_000);
    const finished = await untilTable(snap, (t) => t.finishedAt !== null, "the snapshot done", 180_000);
    const actual = (Date.parse(finished.finishedAt!) - Date.parse(quarter.updatedAt)) / 1000;
    expect(quarter.done / finished.done).toBeLessThan(0.4);
    expect(Math.abs(quarter.etaSeconds! - actual), `ETA ${quarter.etaSeconds} s at ${quarter.done} rows, took ${actual} s`).toBeLessThanOrEqual(actual * 0.25);
  });
});
