import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, harness, pgClient, uniqueName } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { checkHistories, closeRegistry, keyString, killAcrossPhases, untilStreaming, type Change } from "../binlog/support.js";
import { dropPgcdcDatabase, expectTopicEqualsPgTable, pgcdcConnector } from "./support.js";

const ROWS = 4_000;
/** Each kill costs a daemon start (the CLI loaded anew): about 5 minutes in all with the machine's 2 cores busy, hence the test's timeout. */
const KILLS = 10;
/** The first kills land while the tables are copied, the others while changes stream. */
const SNAPSHOT_KILLS = 4;

/** A change the writers committed: `key:op:version`, as checkHistories names them, and when its statement ran. */
interface Written {
  change: string;
  startedAt: number;
  endedAt: number;
}

/** Inserts rows at version 1, bumps versions, deletes; ids are never reused. Each committed change goes into `log`. */
function writer(client: pg.Client, log: Written[], stop: () => boolean): Promise<void> {
  return (async () => {
    for (let n = 0; !stop(); n++) {
      const r = Math.random();
      const id = 1 + Math.floor(Math.random() * ROWS);
      const startedAt = Date.now();
      const [op, sql, params] =
        r < 0.3
          ? ["c", "INSERT INTO items (v, label) VALUES (1, $1) RETURNING id, v", [`new ${n}`]]
          : r < 0.9
            ? ["u", "UPDATE items SET v = v + 1, label = $1 WHERE id = $2 RETURNING id, v", [`u ${n}`, id]]
            : ["d", "DELETE FROM items WHERE id = $1 RETURNING id, v", [id]];
      const { rows } = await client.query<{ id: number; v: number }>(sql, params);
      for (const row of rows) log.push({ change: `${keyString({ id: row.id })}:${op}:${row.v}`, startedAt, endedAt: Date.now() });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
}

/**
 * No change lost, none made up: the changes the topic carries (its records other than snapshot
 * reads) are exactly the writers' changes that committed after one point in time, the slot's
 * consistent point. So none of them is in the topic while one that surely committed later is not.
 */
function expectEveryChangeAfterOnePoint(changes: readonly Change[], written: readonly Written[]): void {
  const streamed = new Set(changes.filter((c) => c.value && c.value.op !== "r").map((c) => `${keyString(c.key)}:${c.value!.op}:${String((c.value!.op === "d" ? c.value!.before : c.value!.after)!.v)}`));
  const known = new Set(written.map((w) => w.change));
  expect([...streamed].filter((c) => !known.has(c)), "changes in the topic no writer made").toEqual([]);
  const inTopic = written.filter((w) => streamed.has(w.change));
  const missing = written.filter((w) => !streamed.has(w.change));
  expect(inTopic.length).toBeGreaterThan(0);
  const firstIn = Math.min(...inTopic.map((w) => w.endedAt));
  expect(missing.filter((w) => w.startedAt > firstIn).map((w) => w.change), "changes committed after one in the topic, yet missing").toEqual([]);
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
    const written: Written[] = [];
    writing = writers.map((w) => writer(w, written, () => stopping));
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
    expectEveryChangeAfterOnePoint(changes, written);
  }, 420_000);
});
