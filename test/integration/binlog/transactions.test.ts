import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Position, Source } from "../../../src/runtime/connector.js";
import { uniqueName } from "../../harness/index.js";
import { startDaemon, untilFailed, type Daemon } from "../../support/daemon.js";
import { binlogConnector, binlogSource, expectOneTransaction, readChanges, scratchDatabase, untilStreaming, type Change } from "./support.js";

const SPLIT = { a: 400, b: 300, c: 300 };
/** 20,000 rows read 1,000 at a time would be 20 Kafka transactions if each read were committed alone; gathered, a few. */
const TRANSACTIONS_AT_MOST = 10;

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

  it("gathers its reads of 1,000 records into Kafka transactions of up to batch.maxRecords, each row once", async () => {
    await daemon?.stop();
    await db.conn.query("CREATE TABLE gathered (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL)");
    const name = uniqueName("binlog_gather");
    const first = await startDaemon({ connectors: [binlogConnector(name, db.name, { include: [`${db.name}.gathered`] })] });
    await first.waitReady();
    await untilStreaming(first, name);
    await first.stop();
    // a backlog: 20,000 rows in 100-row transactions while no daemon runs
    for (let start = 1; start <= 20_000; start += 100) await db.conn.query(`INSERT INTO gathered SELECT seq, CONCAT('g', seq) FROM seq_${start}_to_${start + 99}`);
    daemon = await first.restart();
    const changes = await readChanges(`${name}.${db.name}.gathered`, 20_000);
    expect(changes).toHaveLength(20_000);
    expect(new Set(changes.map((c) => c.key!.id)).size).toBe(20_000);
    // each Kafka transaction leaves one commit marker after its records, so the gaps count them
    const transactions = Number(changes.at(-1)!.offset - changes[0]!.offset) + 1 - changes.length + 1;
    expect(transactions).toBeLessThanOrEqual(TRANSACTIONS_AT_MOST);
  });

  it("still delivers every row gathered before a change it must stop at, then stops there", async () => {
    await daemon?.stop();
    await db.conn.query("CREATE TABLE poisoned (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL)");
    const name = uniqueName("binlog_poison");
    const topic = `${name}.${db.name}.poisoned`;
    const first = await startDaemon({ connectors: [binlogConnector(name, db.name, { include: [`${db.name}.poisoned`] })] });
    await first.waitReady();
    await untilStreaming(first, name);
    // registers the table's first version
    await db.conn.query("INSERT INTO poisoned VALUES (0, 'p0')");
    await readChanges(topic, 1);
    await first.stop();
    // a backlog of three reads, then a change BACKWARD forbids (a required field without a default) and a row of it
    for (let start = 1; start <= 3000; start += 100) await db.conn.query(`INSERT INTO poisoned SELECT seq, CONCAT('p', seq) FROM seq_${start}_to_${start + 99}`);
    await db.conn.query("ALTER TABLE poisoned ADD COLUMN code INT NOT NULL");
    await db.conn.query("INSERT INTO poisoned VALUES (3001, 'p3001', 1)");
    daemon = await first.restart();
    const failed = await untilFailed(daemon, name, 60_000);
    expect(failed.lastError?.code).toBe("SCHEMA_INCOMPATIBLE");
    const ids = (await readChanges(topic, 3001)).map((c) => c.key!.id as number);
    expect(ids).toEqual(Array.from({ length: 3001 }, (_, i) => i));
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
