import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, harness, pgClient, uniqueName } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { checkHistories, closeRegistry, killAcrossPhases, untilStreaming } from "../binlog/support.js";
import { dropPgcdcDatabase, expectTopicEqualsPgTable, pgcdcConnector } from "./support.js";

const ROWS = 4_000;
const KILLS = 5;
/** The first kills land while the tables are copied, the others while changes stream. */
const SNAPSHOT_KILLS = 2;

/** Inserts rows at version 1, bumps versions, deletes; ids are never reused. */
function writer(client: pg.Client, stop: () => boolean): Promise<void> {
  return (async () => {
    for (let n = 0; !stop(); n++) {
      const r = Math.random();
      const id = 1 + Math.floor(Math.random() * ROWS);
      if (r < 0.3) await client.query("INSERT INTO items (v, label) VALUES (1, $1)", [`new ${n}`]);
      else if (r < 0.9) await client.query("UPDATE items SET v = v + 1, label = $1 WHERE id = $2", [`u ${n}`, id]);
      else await client.query("DELETE FROM items WHERE id = $1", [id]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
}

describe("pgcdc source killed with SIGKILL", () => {
  let database: string;
  let daemon: Daemon | undefined;
  const writers: pg.Client[] = [];
  let stopping = false;
  let writing: Promise<void>[] = [];

  beforeAll(async () => {
    database = await createDatabase("postgres");
    const client = await pgClient(harness(), database);
    await client.query("CREATE TABLE items (id SERIAL PRIMARY KEY, v INT NOT NULL, label VARCHAR(60) NOT NULL)");
    // the whole old row with deletes, so each key's history can be checked version by version
    await client.query("ALTER TABLE items REPLICA IDENTITY FULL");
    await client.query(`INSERT INTO items (v, label) SELECT 1, 'row ' || i FROM generate_series(1, ${ROWS}) AS i`);
    writers.push(client, await pgClient(harness(), database));
  });

  afterAll(async () => {
    stopping = true;
    await Promise.all(writing);
    await daemon?.kill();
    await Promise.all(writers.map((w) => w.end()));
    await closeRegistry();
    if (database) await dropPgcdcDatabase(database);
  });

  it(`delivers each change exactly once and in commit order per key across ${KILLS} kills during the snapshot and streaming`, async () => {
    const name = uniqueName("pgcdc_crash");
    writing = writers.map((w) => writer(w, () => stopping));
    let phases: string[] | undefined;
    try {
      daemon = await startDaemon({ connectors: [pgcdcConnector(name, database, { snapshot: { chunkSize: 200, maxRowsPerSecond: 600 } })] });
      ({ daemon, phases } = await killAcrossPhases(daemon, name, KILLS, SNAPSHOT_KILLS));
      await daemon.waitReady();
    } finally {
      stopping = true;
      await Promise.all(writing);
    }
    expect(phases).toContain("snapshot");
    expect(phases).toContain("stream");
    await untilStreaming(daemon, name);

    const changes = await expectTopicEqualsPgTable(`${name}.public.items`, database, "items");
    checkHistories(changes);
  }, 300_000);
});
