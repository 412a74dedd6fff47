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
import { connectorEntry, databaseFor, readDecoded, type Kind, type Session, type TestDatabase } from "./fixtures.js";

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

async function committedIds(db: TestDatabase): Promise<string[]> {
  return ((await db.exec("SELECT id FROM orders ORDER BY id")) as { id: number | string }[]).map((r) => String(r.id));
}

describe.each(["mariadb", "postgres"] as const)("ids drawn before the insert on %s", (kind) => {
  const db = databaseFor(kind);
  let daemon: Daemon | undefined;
  afterAll(async () => {
    await daemon?.stop();
  });

  it("delivers every row of transactions that took their id from the sequence first, beside plain inserts, across a kill -9, exactly once", async () => {
    for (const statement of SQL[kind].schema) await db.exec(statement);
    const name = uniqueName("idfirst");
    const topic = `${name}.${db.schema}.orders`;
    daemon = await startDaemon({ connectors: [connectorEntry(db, name, { tables: [`${db.schema}.orders`], mode: "incrementing" })] });
    await daemon.waitReady();

    const rnd = random(SEED);
    const sessions = await Promise.all(Array.from({ length: 6 }, () => db.session()));
    const run = { stop: false };
    const writers = sessions.map((s, i) => writer(kind, s, `${i < 3 ? "first" : "plain"}-${i}`, i < 3, random(Math.floor(rnd() * 2 ** 32)), run));
    let written: number[];
    try {
      await pause(BEFORE_KILL_MS);
      await waitFor(async () => ((await daemon!.status(name))?.records ?? 0) > 0, { timeoutMs: 20_000, message: "rows delivered before the kill" });
      await daemon.kill();
      daemon = await daemon.restart();
      await daemon.waitReady();
      await pause(AFTER_RESTART_MS);
      run.stop = true;
      written = await Promise.all(writers);
    } finally {
      run.stop = true;
      await Promise.allSettled(writers);
      await Promise.all(sessions.map((s) => s.close()));
    }

    const expected = await committedIds(db);
    expect(expected.length, "rows committed").toBe(written.reduce((a, b) => a + b, 0));
    // the rows that never come make the counted read time out: then what did come tells which
    const delivered = async () => (await readDecoded(daemon!.adminUrl, topic, expected.length, 30_000).catch(() => readDecoded(daemon!.adminUrl, topic))).map((r) => String(r.key!.id));
    const got = await delivered();
    const seen = new Set(got);
    const report = {
      missing: expected.filter((id) => !seen.has(id)),
      extra: [...seen].filter((id) => !expected.includes(id)),
      duplicates: got.filter((id, i) => got.indexOf(id) !== i),
    };
    expect(report, `seed ${SEED}: ${expected.length} rows committed, ${got.length} records read`).toEqual({ missing: [], extra: [], duplicates: [] });
    // and nothing comes twice later on
    await pause(1500);
    expect(await delivered()).toEqual(got);
  });
});
