/**
 * The ORM pattern that takes the id first (Hibernate's SEQUENCE generator): BEGIN; SELECT
 * nextval; …work…; INSERT with that id; COMMIT. Until its INSERT, such a transaction has written
 * nothing and, on PostgreSQL, usually has no transaction id; yet it holds an id below ids that
 * plain inserts beside it commit meanwhile. An incrementing cursor that moved past those would
 * never read its row.
 */
import { afterAll, describe, expect, it } from "vitest";
import { uniqueName, waitFor } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { connectorEntry, databaseFor, readDecoded, type Kind, type Session } from "./fixtures.js";

/** Writing before the kill, and again once the restarted daemon is ready. */
const BEFORE_KILL_MS = 2_500;
const AFTER_RESTART_MS = 3_000;
const SEED = Number(process.env.SEED ?? Date.now() % 1_000_000);

/** mulberry32: the writers' pauses, reproducible from the seed a failure prints. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SQL = {
  mariadb: {
    schema: [
      "CREATE SEQUENCE orders_seq",
      "CREATE TABLE orders (id BIGINT PRIMARY KEY DEFAULT NEXTVAL(orders_seq), writer VARCHAR(20) NOT NULL, n INT NOT NULL)",
    ],
    nextval: "SELECT NEXTVAL(orders_seq) AS id",
    insertWithId: "INSERT INTO orders (id, writer, n) VALUES (?, ?, ?)",
    insert: "INSERT INTO orders (writer, n) VALUES (?, ?)",
  },
  postgres: {
    schema: [
      "CREATE SEQUENCE orders_seq",
      "CREATE TABLE orders (id BIGINT PRIMARY KEY DEFAULT nextval('orders_seq'), writer VARCHAR(20) NOT NULL, n INT NOT NULL)",
    ],
    nextval: "SELECT nextval('orders_seq') AS id",
    insertWithId: "INSERT INTO orders (id, writer, n) VALUES ($1, $2, $3)",
    insert: "INSERT INTO orders (writer, n) VALUES ($1, $2)",
  },
} as const;

/** The part of the query source's position this test reads. */
type Position = { streams: Record<string, { id?: number | string } | undefined> };

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One writer's loop until `run.stop`: each transaction either draws its id first and holds it for
 * 0.2-2.5 s before the INSERT (one in eight rolls back, leaving a gap), or inserts with the
 * column's default and commits within 0.3 s. Returns how many rows it committed.
 */
async function writer(kind: Kind, session: Session, name: string, idFirst: boolean, rnd: () => number, run: { stop: boolean }): Promise<number> {
  const sql = SQL[kind];
  let committed = 0;
  for (let n = 0; !run.stop; n++) {
    await session.exec("BEGIN");
    if (idFirst) {
      const [row] = (await session.exec(sql.nextval)) as { id: number | string }[];
      await pause(200 + rnd() * 2300);
      await session.exec(sql.insertWithId, [row!.id, name, n]);
      if (n % 8 === 7) {
        await session.exec("ROLLBACK");
        continue;
      }
    } else {
      await session.exec(sql.insert, [name, n]);
      await pause(rnd() * 300);
    }
    await session.exec("COMMIT");
    committed++;
    if (!idFirst) await pause(rnd() * 200);
  }
  return committed;
}

/** Ids committed in the table, and ids a read_committed consumer got, compared. */
async function delivery(expected: string[], adminUrl: string, topic: string, committed: number) {
  const got = (await readDecoded(adminUrl, topic)).map((r) => String(r.key!.id));
  const seen = new Set(got);
  return {
    committed: expected.length === committed ? "as written" : `${expected.length} in the table, ${committed} written`,
    missing: expected.filter((id) => !seen.has(id)),
    extra: [...seen].filter((id) => !expected.includes(id)),
    duplicates: got.filter((id, i) => got.indexOf(id) !== i),
  };
}

// one daemon serves both databases: a daemon's start is most of this test's time
describe("ids drawn before the insert, on MariaDB and PostgreSQL", () => {
  const dbs = { mariadb: databaseFor("mariadb"), postgres: databaseFor("postgres") };
  const kinds = ["mariadb", "postgres"] as const;
  let daemon: Daemon | undefined;
  afterAll(async () => {
    await daemon?.stop();
  });

  it("delivers every row of transactions that took their id from the sequence first, beside plain inserts, across a kill -9, exactly once", async () => {
    const names = { mariadb: uniqueName("idfirst"), postgres: uniqueName("idfirst") };
    for (const kind of kinds) for (const statement of SQL[kind].schema) await dbs[kind].exec(statement);
    daemon = await startDaemon({
      connectors: kinds.map((kind) => connectorEntry(dbs[kind], names[kind], { tables: [`${dbs[kind].schema}.orders`], mode: "incrementing" })),
    });
    await daemon.waitReady();

    const rnd = random(SEED);
    const run = { stop: false };
    const sessions = await Promise.all(kinds.flatMap((kind) => Array.from({ length: 6 }, async () => ({ kind, session: await dbs[kind].session() }))));
    const writers = sessions.map(({ kind, session }, i) => writer(kind, session, `${i % 6 < 3 ? "first" : "plain"}-${i}`, i % 6 < 3, random(Math.floor(rnd() * 2 ** 32)), run));
    let written: number[];
    try {
      await pause(BEFORE_KILL_MS);
      for (const kind of kinds) {
        await waitFor(async () => ((await daemon!.status(names[kind]))?.records ?? 0) > 0, { timeoutMs: 20_000, message: `rows delivered from ${kind} before the kill` });
      }
      await daemon.kill();
      daemon = await daemon.restart();
      await daemon.waitReady();
      await pause(AFTER_RESTART_MS);
      run.stop = true;
      written = await Promise.all(writers);
    } finally {
      run.stop = true;
      await Promise.allSettled(writers);
      await Promise.all(sessions.map(({ session }) => session.close()));
    }

    const topic = (kind: Kind) => `${names[kind]}.${dbs[kind].schema}.orders`;
    const committed = (kind: Kind) => written.filter((_, i) => sessions[i]!.kind === kind).reduce((a, b) => a + b, 0);
    const expected = {} as Record<Kind, string[]>;
    for (const kind of kinds) {
      expected[kind] = ((await dbs[kind].exec("SELECT id FROM orders ORDER BY id")) as { id: number | string }[]).map((r) => String(r.id));
      // the cursor passes a skipped row as well: once it is committed at the last id, all that will come has come
      const last = Number(expected[kind].at(-1));
      await waitFor(async () => Number(((await daemon!.status(names[kind]))?.position as Position | null)?.streams[topic(kind)]?.id ?? 0) >= last, {
        timeoutMs: 60_000,
        message: `${kind}: a committed position at id ${last}`,
      });
    }
    const report = async () => ({
      mariadb: await delivery(expected.mariadb, daemon!.adminUrl, topic("mariadb"), committed("mariadb")),
      postgres: await delivery(expected.postgres, daemon!.adminUrl, topic("postgres"), committed("postgres")),
    });
    const clean = { committed: "as written", missing: [], extra: [], duplicates: [] };
    expect(await report(), `seed ${SEED}`).toEqual({ mariadb: clean, postgres: clean });
    // and nothing comes twice later on
    await pause(1500);
    expect(await report(), `seed ${SEED}, 1.5 s later`).toEqual({ mariadb: clean, postgres: clean });
    // two daemon starts: seconds on a quiet machine, a minute or more on a loaded one
  }, 240_000);
});
