import { afterAll, describe, it } from "vitest";
import { uniqueName } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { expectOneTransaction, readChanges, untilStreaming, type Change } from "../binlog/support.js";
import { pgcdcConnector, scratchDatabase } from "./support.js";

const SPLIT = { a: 400, b: 300, c: 300 };

describe("pgcdc source transactions", () => {
  const db = scratchDatabase();
  let daemon: Daemon | undefined;

  afterAll(async () => {
    await daemon?.stop();
  });

  it("puts a source transaction of 3 tables and 1,000 rows into one Kafka transaction, even past the batch size", async () => {
    for (const t of Object.keys(SPLIT)) await db.client.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL)`);
    const name = uniqueName("pgcdc_tx");
    // 100 records per batch at most: a transaction ten times larger must still not be split
    daemon = await startDaemon({ connectors: [{ ...pgcdcConnector(name, db.name), batch: { maxRecords: 100 } }] });
    await daemon.waitReady();
    await untilStreaming(daemon, name);

    await db.client.query("BEGIN");
    let id = 0;
    for (const [table, n] of Object.entries(SPLIT)) {
      await db.client.query(`INSERT INTO ${table} (id, label) SELECT i, '${table}' || i FROM generate_series($1::int, $2::int) AS i`, [id + 1, id + n]);
      id += n;
    }
    await db.client.query("COMMIT");

    const byTable = new Map<string, Change[]>();
    for (const [table, n] of Object.entries(SPLIT)) byTable.set(table, await readChanges(`${name}.public.${table}`, n));
    expectOneTransaction(byTable, SPLIT);
  });
});
