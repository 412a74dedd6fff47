import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, dropDatabase, harness, mysqlConnection, uniqueName } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { binlogConnector, closeRegistry, untilStreaming, expectTopicEqualsTable } from "./support.js";

const ROWS = 20_000;

/** A writer that inserts, updates and deletes at random until told to stop. */
function writer(conn: Connection, stop: () => boolean): Promise<number> {
  return (async () => {
    let n = 0;
    while (!stop()) {
      const id = 1 + Math.floor(Math.random() * ROWS * 1.2);
      const r = Math.random();
      if (r < 0.4) await conn.query("INSERT INTO orders (customer, qty, price, updated) VALUES (?, ?, ?, NOW(6))", [`c${n}`, n % 100, `${n % 1000}.${n % 100}`]);
      else if (r < 0.85) await conn.query("UPDATE orders SET qty = qty + 1, updated = NOW(6), note = ? WHERE id = ?", [`w${n}`, id]);
      else await conn.query("DELETE FROM orders WHERE id = ?", [id]);
      n++;
    }
    return n;
  })();
}

describe("binlog snapshot under concurrent writes", () => {
  let database: string;
  let daemon: Daemon | undefined;
  const writers: Connection[] = [];
  let stopping = false;
  let writing: Promise<number>[] = [];

  beforeAll(async () => {
    database = await createDatabase("mariadb");
    const conn = await mysqlConnection(harness(), database);
    await conn.query(`CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(40) NOT NULL, qty INT NOT NULL,
      price DECIMAL(10,2) NOT NULL, updated DATETIME(6) NOT NULL, note TEXT NULL)`);
    await conn.query(`INSERT INTO orders (customer, qty, price, updated) SELECT CONCAT('c', seq), seq % 100, seq / 100, NOW(6) FROM seq_1_to_${ROWS}`);
    writers.push(conn);
    for (let i = 0; i < 3; i++) writers.push(await mysqlConnection(harness(), database));
  });

  afterAll(async () => {
    stopping = true;
    await Promise.all(writing);
    await daemon?.stop();
    await Promise.all(writers.map((w) => w.end()));
    await closeRegistry();
    if (database) await dropDatabase("mariadb", database);
  });

  it("gives, after the snapshot and the catch-up, exactly the table's rows when the topic is compacted by key", async () => {
    const name = uniqueName("binlog_consistent");
    writing = writers.map((w) => writer(w, () => stopping));
    // slow enough that the four writers run through the whole snapshot
    try {
      daemon = await startDaemon({ connectors: [binlogConnector(name, database, { snapshot: { chunkSize: 1000, maxRowsPerSecond: 8000 } })] });
      await daemon.waitReady();
      await untilStreaming(daemon, name);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      stopping = true;
    }
    const writes = await Promise.all(writing);
    expect(writes.reduce((a, b) => a + b)).toBeGreaterThan(200);

    const changes = await expectTopicEqualsTable(`${name}.${database}.orders`, database, "orders");
    const reads = changes.filter((c) => c.value?.op === "r");
    expect(reads.length).toBeGreaterThan(ROWS * 0.8);
    expect(reads.every((c) => c.value!.source.snapshot === "true" && c.value!.before === null)).toBe(true);
    expect(changes.some((c) => c.value?.op === "u")).toBe(true);
    expect(changes.some((c) => c.value?.op === "d")).toBe(true);
  });
});
