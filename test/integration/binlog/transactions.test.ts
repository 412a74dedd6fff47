import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Position, Source } from "../../../src/runtime/connector.js";
import { uniqueName } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { binlogConnector, binlogSource, expectOneTransaction, readChanges, scratchDatabase, untilStreaming, type Change } from "./support.js";

const SPLIT = { a: 400, b: 300, c: 300 };

describe("binlog source transactions", () => {
  const db = scratchDatabase();
  let daemon: Daemon | undefined;

  beforeAll(async () => {
    for (const t of Object.keys(SPLIT)) await db.conn.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL)`);
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  it("puts a source transaction of 3 tables and 1,000 rows into one Kafka transaction, even past the batch size", async () => {
    const name = uniqueName("binlog_tx");
    // 100 records per batch at most: a transaction ten times larger must still not be split
    daemon = await startDaemon({ connectors: [{ ...binlogConnector(name, db.name), batch: { maxRecords: 100 } }] });
    await daemon.waitReady();
    await untilStreaming(daemon, name);

    await db.conn.beginTransaction();
    let id = 0;
    for (const [table, n] of Object.entries(SPLIT)) {
      const rows = Array.from({ length: n }, () => [++id, `${table}${id}`]);
      await db.conn.query(`INSERT INTO ${table} (id, label) VALUES ?`, [rows]);
    }
    await db.conn.commit();

    const byTable = new Map<string, Change[]>();
    for (const [table, n] of Object.entries(SPLIT)) byTable.set(table, await readChanges(`${name}.${db.name}.${table}`, n));
    expectOneTransaction(byTable, SPLIT);
  });

  it("splits only a transaction larger than maxTransactionRecords, and resumes inside it without a repeat or a gap", async () => {
    await db.conn.query("CREATE TABLE big (id INT PRIMARY KEY)");
    const name = uniqueName("split");
    const open = async (position: Position | null): Promise<Source> => {
      const source = binlogSource(db.name, { name, include: [`${db.name}.big`], maxTransactionRecords: 1000, snapshot: { mode: "never" } });
      await source.open(position);
      return source;
    };
    const first = await open(null);
    await first.read(); // the stream starts at the end of the log, before the transaction
    await db.conn.query("INSERT INTO big (id) SELECT seq FROM seq_1_to_2500");
    const part = await first.read();
    await first.close();
    // split at the row event that crosses the cap
    expect(part!.records.length).toBeGreaterThanOrEqual(1000);
    expect(part!.records.length).toBeLessThan(2500);
    expect(part!.position).toMatchObject({ row: part!.records.length });

    const second = await open(part!.position);
    const ids: number[] = [];
    while (ids.length < 2500 - part!.records.length) {
      const batch = await second.read();
      ids.push(...batch!.records.map((r) => (r.key as { id: number }).id));
    }
    await second.close();
    const firstIds = part!.records.map((r) => (r.key as { id: number }).id);
    expect([...firstIds, ...ids].sort((x, y) => x - y)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  });
});
