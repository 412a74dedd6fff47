import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, dropDatabase, harness, mysqlConnection, uniqueName } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { binlogConnector, checkHistories, closeRegistry, expectTopicEqualsTable, killAcrossPhases, untilStreaming } from "./support.js";

const ROWS = 4_000;
const KILLS = 10;
/** The first kills land while the tables are copied, the others while changes stream. */
const SNAPSHOT_KILLS = 3;

/** Inserts rows at version 1, bumps versions, deletes; ids are never reused. */
function writer(conn: Connection, stop: () => boolean): Promise<void> {
  return (async () => {
    for (let n = 0; !stop(); n++) {
      const r = Math.random();
      const id = 1 + Math.floor(Math.random() * ROWS);
      if (r < 0.3) await conn.query("INSERT INTO items (v, label) VALUES (1, ?)", [`new ${n}`]);
      else if (r < 0.9) await conn.query("UPDATE items SET v = v + 1, label = ? WHERE id = ?", [`u ${n}`, id]);
      else await conn.query("DELETE FROM items WHERE id = ?", [id]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
}

describe("binlog source killed with SIGKILL", () => {
  let database: string;
  let daemon: Daemon | undefined;
  const writers: Connection[] = [];
  let stopping = false;
  let writing: Promise<void>[] = [];

  beforeAll(async () => {
    database = await createDatabase("mariadb");
    const conn = await mysqlConnection(harness(), database);
    await conn.query("CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL, label VARCHAR(60) NOT NULL)");
    await conn.query(`INSERT INTO items (v, label) SELECT 1, CONCAT('row ', seq) FROM seq_1_to_${ROWS}`);
    writers.push(conn, await mysqlConnection(harness(), database));
  });

  afterAll(async () => {
    stopping = true;
    await Promise.all(writing);
    await daemon?.kill();
    await Promise.all(writers.map((w) => w.end()));
    await closeRegistry();
    if (database) await dropDatabase("mariadb", database);
  });

  it(`delivers each change exactly once and in commit order per key across ${KILLS} kills during the snapshot and streaming`, async () => {
    const name = uniqueName("binlog_crash");
    writing = writers.map((w) => writer(w, () => stopping));
    let phases: string[] | undefined;
    try {
      daemon = await startDaemon({ connectors: [binlogConnector(name, database, { snapshot: { chunkSize: 200, maxRowsPerSecond: 1500 } })] });
      ({ daemon, phases } = await killAcrossPhases(daemon, name, KILLS, SNAPSHOT_KILLS));
      await daemon.waitReady();
    } finally {
      stopping = true;
      await Promise.all(writing);
    }
    expect(phases).toContain("snapshot");
    expect(phases).toContain("stream");
    await untilStreaming(daemon, name);

    const changes = await expectTopicEqualsTable(`${name}.${database}.items`, database, "items");
    checkHistories(changes);
  }, 300_000);
});
