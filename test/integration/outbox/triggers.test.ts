/**
 * Trigger-based change capture, through the real CLI and `liberator run`: `outbox triggers
 * --apply` on a MariaDB and a PostgreSQL table turns inserts, updates (a multi-row one too) and
 * deletes into change events with before and after images, exactly once; `--drop` removes them.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { harness, readTopic, waitFor } from "../../harness/index.js";
import { repoRoot } from "../../harness/paths.js";
import { startDaemon } from "../../support/daemon.js";
import { decodeAvro, outboxSuite, type Kind } from "./fixtures.js";

const run = promisify(execFile);

async function cli(config: string, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli.ts"), "outbox", ...args, "-c", config], { cwd: repoRoot });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

const TABLES: Record<Kind, string> = {
  mariadb: "CREATE TABLE items (id int PRIMARY KEY, name varchar(40) NOT NULL, price decimal(10,2), ts timestamp(6) NULL, data blob, secret varchar(20))",
  postgres: "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), ts timestamptz, data bytea, secret text)",
};

interface Change {
  op: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  source: { table: string; db: string };
}

describe.each<Kind>(["mariadb", "postgres"])("change-capture triggers on %s", (kind) => {
  const suite = outboxSuite(kind);

  it("turns inserts, updates and deletes into change events with before and after images, exactly once", async () => {
    const { fixture } = suite;
    const config = join(mkdtempSync(join(tmpdir(), "liberator-triggers-")), "connectors.yaml");
    writeFileSync(config, stringify({ kafka: { brokers: harness().kafka.brokers }, connectors: [fixture.raw()] }));
    const app = await fixture.app();
    await app.exec(TABLES[kind]);
    const applied = await cli(config, "triggers", "--connector", fixture.name, "--table", "items", "--columns", "name,price,ts,data", "--apply");
    expect(applied, applied.out).toMatchObject({ code: 0 });
    expect(applied.out).toContain("columns id, name, price, ts, data");

    const daemon = (suite.daemon = await startDaemon({ connectors: [fixture.raw()] }));
    await daemon.waitReady();
    // the application's session is in another time zone (and date style): the images must not care
    await app.exec(kind === "postgres" ? "SET TIME ZONE 'Asia/Kolkata'; SET DateStyle = 'SQL, DMY'" : "SET time_zone = '+05:30'");
    const [ts, hex] = kind === "postgres" ? ["'2024-02-29 23:59:59.123456+00'", "'\\x00ff'::bytea"] : ["'2024-03-01 05:29:59.123456'", "x'00ff'"];
    await app.exec(`INSERT INTO items VALUES (1, 'one', 1.5, ${ts}, ${hex}, 's1'), (2, 'two', 2.5, NULL, NULL, 's2'), (3, 'three', NULL, NULL, NULL, 's3')`);
    await app.begin();
    await app.exec("UPDATE items SET price = price + 1 WHERE id <= 2");
    await app.exec("UPDATE items SET secret = 'changed'");
    await app.commit();
    await app.exec("UPDATE items SET id = 30 WHERE id = 3");
    await app.exec("DELETE FROM items WHERE id = 2");

    const schema = kind === "postgres" ? "public" : fixture.database;
    const records = await readTopic(harness().kafka.brokers, `${fixture.name}.${schema}.items`, { expect: 10 });
    const keys = await Promise.all(records.map((r) => decodeAvro(daemon.adminUrl, r.key)));
    const changes = (await Promise.all(records.map((r) => decodeAvro(daemon.adminUrl, r.value)))) as (Change | null)[];
    expect(changes.map((c) => c?.op ?? "tombstone")).toEqual(["c", "c", "c", "u", "u", "d", "tombstone", "c", "d", "tombstone"]);
    expect(keys).toEqual([1, 2, 3, 1, 2, 3, 3, 30, 2, 2].map((id) => ({ id })));
    expect(changes[0]!.after).toEqual({ id: 1, name: "one", price: "1.50", ts: "2024-02-29T23:59:59.123456Z", data: Buffer.from([0, 255]) });
    expect(changes[3]).toMatchObject({ before: { id: 1, price: "1.50" }, after: { id: 1, price: "2.50" }, source: { db: schema, table: "items" } });
    expect(changes[4]).toMatchObject({ before: { id: 2, price: "2.50", ts: null }, after: { id: 2, price: "3.50" } });
    expect(changes[5]).toMatchObject({ before: { id: 3, name: "three" }, after: null });
    expect(changes[7]).toMatchObject({ before: null, after: { id: 30, name: "three" } });
    expect(changes[8]).toMatchObject({ before: { id: 2, name: "two", price: "3.50" }, after: null });
    expect(Object.keys(changes[0]!.after!)).not.toContain("secret");
    await waitFor(async () => (await fixture.pending()) === 0, { message: "the outbox to be empty" });
    await daemon.stop();
    suite.daemon = undefined;

    const before = await app.rows("SELECT * FROM items ORDER BY id");
    const dropped = await cli(config, "triggers", "--connector", fixture.name, "--table", "items", "--drop");
    expect(dropped, dropped.out).toMatchObject({ code: 0 });
    expect(await app.rows("SELECT * FROM items ORDER BY id")).toEqual(before);
    await app.exec("INSERT INTO items (id, name) VALUES (4, 'four')");
    await app.exec("UPDATE items SET price = 9 WHERE id = 1");
    await app.exec("DELETE FROM items WHERE id = 30");
    expect(await fixture.pending()).toBe(0);
    await app.close();
  });
});
