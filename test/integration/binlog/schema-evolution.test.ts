import type { RowDataPacket } from "mysql2/promise";
import { afterAll, describe, expect, it } from "vitest";
import type { Position } from "../../../src/runtime/connector.js";
import { readRecords } from "../../acceptance/source-suite.js";
import { uniqueName } from "../../harness/index.js";
import { startDaemon, untilFailed, type Daemon } from "../../support/daemon.js";
import { binlogConnector, binlogSource, readChanges, scratchDatabase, untilStreaming } from "./support.js";

type Row = Record<string, unknown>;

describe("binlog schema evolution", () => {
  const db = scratchDatabase();
  let daemon: Daemon | undefined;

  afterAll(async () => {
    await daemon?.stop();
  });

  it("decodes old events with the columns they were written with, whatever the table looks like now", async () => {
    await db.conn.query("CREATE TABLE replay (id INT PRIMARY KEY, a VARCHAR(10), b INT)");
    const [[status]] = await db.conn.query<RowDataPacket[]>("SHOW MASTER STATUS");
    await db.conn.query("INSERT INTO replay VALUES (1, 'a1', 11)");
    await db.conn.query("ALTER TABLE replay DROP COLUMN a, ADD COLUMN m VARCHAR(10) FIRST");
    await db.conn.query("INSERT INTO replay (m, id, b) VALUES ('m2', 2, 22)");

    const source = binlogSource(db.name, { include: [`${db.name}.replay`] });
    const position = { phase: "stream", file: status!.File as string, pos: status!.Position as number, gtid: null, row: 0, schemas: {}, incremental: null } as Position;
    await source.open(position);
    const { records } = await readRecords(source, 2);
    await source.close();
    const after = records.map((r) => (r.value as { after: Row }).after);
    expect(after[0]).toEqual({ id: 1, a: "a1", b: 11 });
    expect(after[1]).toEqual({ m: "m2", id: 2, b: 22 });
    expect(records[0]!.valueSchema).not.toBe(records[1]!.valueSchema);
  });

  it("keeps old rows on the old schema version and new rows on the new one across ADD COLUMN and MODIFY COLUMN, and stops at an incompatible change", async () => {
    await db.conn.query("CREATE TABLE evolve (id INT PRIMARY KEY, qty INT NOT NULL, name VARCHAR(20) NULL)");
    const name = uniqueName("binlog_evolve");
    daemon = await startDaemon({ connectors: [binlogConnector(name, db.name, { include: [`${db.name}.evolve`] })] });
    await daemon.waitReady();
    await untilStreaming(daemon, name);

    await db.conn.query("INSERT INTO evolve VALUES (1, 10, 'one')");
    await db.conn.query("ALTER TABLE evolve ADD COLUMN note VARCHAR(30) NULL");
    await db.conn.query("INSERT INTO evolve VALUES (2, 20, 'two', 'noted')");
    await db.conn.query("ALTER TABLE evolve MODIFY COLUMN qty BIGINT NOT NULL");
    await db.conn.query("INSERT INTO evolve VALUES (3, 30, 'three', NULL)");
    const topic = `${name}.${db.name}.evolve`;
    const changes = await readChanges(topic, 3);
    const [one, two, three] = changes.map((c) => c.value!);
    expect(one!.after).toEqual({ id: 1, qty: 10, name: "one" });
    expect(two!.after).toEqual({ id: 2, qty: 20, name: "two", note: "noted" });
    expect(three!.after).toEqual({ id: 3, qty: 30n, name: "three", note: null });
    const ids = changes.map((c) => c.schemaId);
    expect(new Set(ids).size).toBe(3);

    await db.conn.query("TRUNCATE evolve");
    const truncate = (await readChanges(topic, 4))[3]!;
    expect(truncate.key).toBeNull();
    expect(truncate.value).toMatchObject({ op: "t", before: null, after: null });

    // a required field without a default: a new reader cannot read the old data, which BACKWARD forbids
    await db.conn.query("ALTER TABLE evolve ADD COLUMN code INT NOT NULL");
    await db.conn.query("INSERT INTO evolve VALUES (4, 40, 'four', NULL, 4)");
    const failed = await untilFailed(daemon, name, 30_000);
    expect(failed.lastError?.code).toBe("SCHEMA_INCOMPATIBLE");
    expect(failed.lastError?.message).toMatch(/code/);
    expect(failed.lastError?.message).toMatch(/BACKWARD/);
    // nothing of the transaction with the new version was produced
    const after = await readChanges(topic);
    expect(after.map((c) => c.value?.op)).toEqual(["c", "c", "c", "t"]);
  });
});
