/**
 * What each server shows of a transaction that drew an id and has written nothing yet, as the
 * horizon's probe reads it (docs/query.md, "Ids taken before the INSERT"). MariaDB lists
 * transactions and locks server-wide, so its part runs on a server of its own where no other
 * test's writers count.
 */
import mysql, { type Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseConnection } from "../../../src/runtime/config/fields.js";
import { openDatabase } from "../../../src/sources/query/open-database.js";
import { startMariaDB, type MariaDBServer } from "../../harness/index.js";
import { databaseFor, queryConfig, validate } from "./fixtures.js";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the horizon on MariaDB (a server of its own)", () => {
  let server: MariaDBServer;
  let root: Connection;
  const connection = () => ({ host: server.host, port: server.port, user: server.user, password: server.password, database: "shop" });
  beforeAll(async () => {
    server = await startMariaDB();
    root = await mysql.createConnection({ host: server.host, port: server.port, user: server.user, password: server.password });
    await root.query("UNINSTALL SONAME 'metadata_lock_info'");
    await root.query("CREATE DATABASE shop");
    await root.query("CREATE SEQUENCE shop.orders_seq");
    await root.query("CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), KEY (updated_at))");
  });
  afterAll(async () => {
    await root?.end();
    await server?.stop();
  });

  it("validate warns, for incrementing streams only, that ids taken with NEXTVAL before the INSERT are unseen without the lock listing, and names the INSTALL SONAME", () => {
    const entry = (name: string, fields: Record<string, unknown>) => ({ name, type: "query", dialect: "mysql", connection: connection(), ...fields });
    const { code, out } = validate([
      entry("by_id", { tables: ["shop.orders"], mode: "incrementing" }),
      entry("by_time", { tables: ["shop.orders"], mode: "timestamp", timestampColumn: "updated_at" }),
    ]);
    expect(code, out).toBe(0);
    expect(out).toContain(`warn connector "by_id": horizon: MariaDB's METADATA_LOCK_INFO is not installed: a transaction that took its id with NEXTVAL`);
    expect(out).toContain("fix: INSTALL SONAME 'metadata_lock_info'");
    expect(out).not.toContain(`warn connector "by_time": horizon`);
  });

  it("once installed, counts a transaction that only drew NEXTVAL (absent from INNODB_TRX) from when it drew, until it ends", async () => {
    await root.query("INSTALL SONAME 'metadata_lock_info'");
    const source = await openDatabase("mysql", databaseConnection(3306).parse(connection()), "probe");
    const writer = await mysql.createConnection(connection());
    try {
      expect(source.unseenIdDraws).toBeUndefined();
      await writer.query("BEGIN");
      await pause(300);
      // NOW() is the statement's start: the lock is taken after it
      const [[drawn]] = (await writer.query("SELECT NEXTVAL(orders_seq) AS id, UNIX_TIMESTAMP(NOW(6)) * 1000000 AS at, CONNECTION_ID() AS thread")) as unknown as [{ at: string; thread: number }[]];
      const [[after]] = (await writer.query("SELECT UNIX_TIMESTAMP(NOW(6)) * 1000000 AS at")) as unknown as [{ at: string }[]];
      // past INNODB_TRX's 100 ms cache
      await pause(200);
      const [[listed]] = (await root.query("SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id = ?", [drawn!.thread])) as unknown as [{ n: number }[]];
      expect(Number(listed!.n), "NEXTVAL started no InnoDB transaction").toBe(0);

      const probe = await source.probe();
      expect(probe.oldest, "it holds no stamp: timestamps are not held back").toBeNull();
      expect(probe.oldestWriter, "counted from its lock, at or before the draw").toBeLessThanOrEqual(Number(after!.at));
      expect(probe.oldestWriter, "to the millisecond, not from its BEGIN 0.3 s earlier").toBeGreaterThanOrEqual(Number(drawn!.at) - 50_000);
      expect(await source.oldestTransaction()).toMatch(new RegExp(`^thread ${drawn!.thread} \\(root@[^)]+\\), holding a write lock on shop\\.orders_seq for \\d+ ms, idle in its transaction$`));

      await writer.query("COMMIT");
      expect((await source.probe()).oldestWriter, "nothing once it commits").toBeNull();
    } finally {
      await writer.end();
      await source.close();
    }
  });
});

describe("the horizon on PostgreSQL", () => {
  const db = databaseFor("postgres");

  it("counts a transaction that only drew nextval (no xid) from its start, until it ends", async () => {
    await db.exec("CREATE SEQUENCE orders_seq");
    // the first value of each 32 writes WAL, which gives its transaction an xid: take it here
    await db.exec("SELECT nextval('orders_seq')");
    const config = queryConfig(db, { tables: ["public.orders_seq"], mode: "bulk" });
    const source = await openDatabase(config.dialect, config.connection, "probe");
    const writer = await db.session();
    try {
      await writer.exec("BEGIN");
      const [began] = (await writer.exec("SELECT (extract(epoch FROM now()) * 1000000)::bigint::text AS at, pg_backend_pid() AS pid")) as { at: string; pid: number }[];
      await pause(300);
      await writer.exec("SELECT nextval('orders_seq')");
      const [state] = (await db.exec("SELECT backend_xid FROM pg_stat_activity WHERE pid = $1", [began!.pid])) as { backend_xid: string | null }[];
      expect(state!.backend_xid, "nextval gave it no xid").toBeNull();

      const probe = await source.probe();
      expect(probe.oldestWriter, "counted from its start").toBe(Number(began!.at));
      expect(await source.oldestTransaction()).toMatch(new RegExp(`^pid ${began!.pid} .*idle in transaction since`));

      await writer.exec("COMMIT");
      expect((await source.probe()).oldestWriter, "nothing once it commits").toBeNull();
    } finally {
      await writer.close();
      await source.close();
    }
  });
});
