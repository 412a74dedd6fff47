import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, harness, pgClient, uniqueName } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { closeRegistry, untilStreaming } from "../binlog/support.js";
import { dropPgcdcDatabase, expectTopicEqualsPgTable, pgcdcConnector } from "./support.js";

const ROWS = 20_000;

/** A writer that inserts, updates and deletes at random until told to stop. */
function writer(client: pg.Client, stop: () => boolean): Promise<number> {
  return (async () => {
    let n = 0;
    while (!stop()) {
      const id = 1 + Math.floor(Math.random() * ROWS * 1.2);
      const r = Math.random();
      if (r < 0.4) await client.query("INSERT INTO orders (customer, qty, price, updated) VALUES ($1, $2, $3, clock_timestamp())", [`c${n}`, n % 100, `${n % 1000}.${n % 100}`]);
      else if (r < 0.85) await client.query("UPDATE orders SET qty = qty + 1, updated = clock_timestamp(), note = $1 WHERE id = $2", [`w${n}`, id]);
      else await client.query("DELETE FROM orders WHERE id = $1", [id]);
      n++;
    }
    return n;
  })();
}

describe("pgcdc snapshot under concurrent writes", () => {
  let database: string;
  let daemon: Daemon | undefined;
  const writers: pg.Client[] = [];
  let stopping = false;
  let writing: Promise<number>[] = [];

  beforeAll(async () => {
    database = await createDatabase("postgres");
    const client = await pgClient(harness(), database);
    await client.query(`CREATE TABLE orders (id SERIAL PRIMARY KEY, customer VARCHAR(40) NOT NULL, qty INT NOT NULL,
      price NUMERIC(10,2) NOT NULL, updated TIMESTAMPTZ(6) NOT NULL, note TEXT NULL)`);
    await client.query(`INSERT INTO orders (customer, qty, price, updated) SELECT 'c' || i, i % 100, i / 100.0, clock_timestamp() FROM generate_series(1, ${ROWS}) AS i`);
    writers.push(client);
    for (let i = 0; i < 3; i++) writers.push(await pgClient(harness(), database));
  });

  afterAll(async () => {
    stopping = true;
    await Promise.all(writing);
    await daemon?.stop();
    await Promise.all(writers.map((w) => w.end()));
    await closeRegistry();
    if (database) await dropPgcdcDatabase(database);
  });

  it("gives, after the snapshot and the switch to streaming, exactly the table's rows when the topic is compacted by key", async () => {
    const name = uniqueName("pgcdc_consistent");
    writing = writers.map((w) => writer(w, () => stopping));
    // slow enough that the four writers run through the whole snapshot
    try {
      daemon = await startDaemon({ connectors: [pgcdcConnector(name, database, { snapshot: { chunkSize: 1000, maxRowsPerSecond: 8000 } })] });
      await daemon.waitReady();
      await untilStreaming(daemon, name);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      stopping = true;
    }
    const writes = await Promise.all(writing);
    expect(writes.reduce((a, b) => a + b)).toBeGreaterThan(200);

    const changes = await expectTopicEqualsPgTable(`${name}.public.orders`, database, "orders");
    const reads = changes.filter((c) => c.value?.op === "r");
    expect(reads.length).toBeGreaterThan(ROWS * 0.8);
    expect(reads.every((c) => c.value!.source.snapshot === "true" && c.value!.before === null)).toBe(true);
    expect(changes.some((c) => c.value?.op === "u")).toBe(true);
    expect(changes.some((c) => c.value?.op === "d")).toBe(true);
  });
});
