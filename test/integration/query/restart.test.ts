import { afterAll, describe, expect, it } from "vitest";
import { uniqueName, waitFor } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { committedPosition } from "../../support/kafka.js";
import { connectorEntry, readDecoded, databaseFor } from "./fixtures.js";

const ROWS = 20_000;

describe("query source: crash in the middle of a large table", () => {
  const db = databaseFor("mariadb");
  let daemon: Daemon | undefined;
  afterAll(async () => {
    await daemon?.stop();
  });

  it("resumes after kill -9 mid initial load, and a read_committed consumer sees each row exactly once", async () => {
    await db.exec("CREATE TABLE big (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL, note VARCHAR(40) NOT NULL, updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))");
    await db.exec(`INSERT INTO big (v, note) SELECT seq, CONCAT('row ', seq) FROM seq_1_to_${ROWS}`);
    const name = uniqueName("crash");
    const topic = `${name}.${db.schema}.big`;
    // slowed down so that the kill lands mid-load
    daemon = await startDaemon({
      connectors: [connectorEntry(db, name, { tables: [`${db.schema}.big`], mode: "timestamp+incrementing", timestampColumn: "updated_at", batchSize: 500, maxRowsPerSecond: 5000 })],
    });
    await daemon.waitReady();
    await waitFor(async () => ((await daemon!.status(name))?.records ?? 0) >= 4000, { timeoutMs: 30_000, message: "4000 rows committed" });
    await daemon.kill();
    const killedAt = (await committedPosition<{ streams: Record<string, { id: number; snapshot?: unknown }> }>(name))!.streams[topic]!;
    expect(killedAt.snapshot, "killed during the initial load").toBeDefined();
    expect(killedAt.id).toBeGreaterThanOrEqual(4000);
    expect(killedAt.id).toBeLessThan(ROWS);

    daemon = await daemon.restart();
    await daemon.waitReady();
    // rows written meanwhile come after the load, once
    await db.exec("INSERT INTO big (v, note) VALUES (-1, 'after the crash')");

    const records = await readDecoded(daemon.adminUrl, topic, ROWS + 1, 60_000);
    const ids = records.map((r) => Number(r.key!.id));
    expect(new Set(ids).size, "no row twice").toBe(ids.length);
    expect(ids.length).toBe(ROWS + 1);
    expect(ids.slice(0, ROWS)).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
    expect(records.slice(0, ROWS).every((r) => r.value!.op === "r")).toBe(true);
    expect(records[ROWS]!.value!.op).toBe("c");
    // the new process read only what the killed one had not committed
    await waitFor(async () => (await daemon!.status(name))?.records === ROWS + 1 - killedAt.id, { timeoutMs: 10_000, message: "the rest of the rows, counted by the new process" });
  });
});
