import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sourceSide, verifyTables } from "../../../src/commands/verify.js";
import "../../../src/connectors.js";
import { loadConfig } from "../../../src/runtime/config/load.js";
import type { SqlSinkConfig } from "../../../src/sinks/sql/config.js";
import { createDatabase, dropDatabase, harness, mysqlConnection, uniqueName, waitFor } from "../../harness/index.js";
import { repoRoot } from "../../harness/paths.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { ChangeProducer, mariadbConnection, pgConnection, targetDatabase, type TargetDatabase } from "./support.js";

const TABLE = `CREATE TABLE orders (
  id BIGINT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  qty INT NOT NULL,
  price DECIMAL(12,4) NOT NULL,
  created DATETIME(6) NOT NULL,
  updated TIMESTAMP(6) NULL DEFAULT NULL,
  note TEXT NULL,
  data BLOB NULL
)`;

/** `liberator verify` as a user runs it. */
function verifyCli(configFile: string, source: string, sink: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli.ts"), "verify", "-c", configFile, "--source", source, "--sink", sink, "--chunk", "100"], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => resolve({ code, out }));
  });
}

/**
 * The writers share one key space on purpose, so InnoDB sometimes picks one of them as a deadlock
 * victim (errno 1213) and rolls its transaction back; a real application retries it, and so do we.
 */
async function retryDeadlock(conn: Awaited<ReturnType<typeof mysqlConnection>>, run: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run();
      return;
    } catch (err) {
      await conn.query("ROLLBACK");
      if ((err as { errno?: number }).errno !== 1213 || attempt === 5) throw err;
    }
  }
}

describe("binlog → Kafka → sql sinks", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it("carries inserts, updates and deletes of 4 concurrent writers into PostgreSQL and MariaDB, and verify finds no difference", async () => {
    const source = await createDatabase("mariadb");
    cleanup.push(() => dropDatabase("mariadb", source));
    const setup = await mysqlConnection(harness(), source);
    await setup.query(TABLE);
    await setup.end();
    const targets: TargetDatabase[] = [await targetDatabase("postgres"), await targetDatabase("mysql")];
    for (const t of targets) cleanup.push(() => t.drop());

    const name = uniqueName("rt");
    const topic = `${name}.${source}.orders`;
    const producer = await ChangeProducer.open();
    await producer.createTopics(topic);
    await producer.close();
    const { host, port, user, password } = harness().mariadb;
    const daemon: Daemon = await startDaemon({
      connectors: [
        { name: `${name}_src`, type: "binlog", connection: { host, port, user, password }, include: [`${source}.*`], topicPrefix: name },
        { name: `${name}_pg`, type: "sql", dialect: "postgres", connection: pgConnection(targets[0]!.name), topics: [topic] },
        { name: `${name}_my`, type: "sql", dialect: "mariadb", connection: mariadbConnection(targets[1]!.name), topics: [topic] },
      ],
    });
    cleanup.push(() => daemon.stop());
    await daemon.waitReady();

    // four writers on one key space: single statements and small transactions, for about 3 s
    const writers = Array.from({ length: 4 }, async (_, w) => {
      const conn = await mysqlConnection(harness(), source);
      try {
        for (let n = 0; n < 120; n++) {
          const id = 1 + Math.floor(Math.random() * 150);
          const pick = Math.random();
          const values = [id, `w${w}-${n} é😀`, n, `${w}${n}.${String(n * 37).padStart(4, "0").slice(-4)}`, `2024-0${1 + (n % 9)}-1${w} 12:34:56.${String(100_000 + n).slice(-6)}`];
          await retryDeadlock(conn, async () => {
            if (pick < 0.5) {
              await conn.query(
                "INSERT INTO orders (id, name, qty, price, created, updated, note, data) VALUES (?, ?, ?, ?, ?, NOW(6), ?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name), qty = qty + 1, updated = NOW(6)",
                [...values, n % 3 === 0 ? null : `note ${n}`, n % 4 === 0 ? null : Buffer.from([w, n, 0, 255])],
              );
            } else if (pick < 0.75) {
              await conn.query("UPDATE orders SET qty = qty + 1, note = ? WHERE id = ?", [`updated by ${w}`, id]);
            } else if (pick < 0.9) {
              await conn.query("DELETE FROM orders WHERE id = ?", [id]);
            } else {
              await conn.query("START TRANSACTION");
              await conn.query("INSERT IGNORE INTO orders (id, name, qty, price, created) VALUES (?, ?, ?, ?, ?)", values);
              await conn.query("UPDATE orders SET price = price + 1 WHERE id = ?", [id]);
              await conn.query("COMMIT");
            }
          });
          await new Promise((r) => setTimeout(r, Math.random() * 40));
        }
      } finally {
        await conn.end();
      }
    });
    await Promise.all(writers);

    const config = loadConfig(daemon.configFile);
    const side = sourceSide(config.connectors.find((c) => c.name === `${name}_src`)!);
    for (const sink of [`${name}_pg`, `${name}_my`]) {
      const sinkConfig = config.connectors.find((c) => c.name === sink)!.config as unknown as SqlSinkConfig;
      await waitFor(async () => (await verifyTables(side, sinkConfig, { chunk: 100 })).every((r) => !r.error && r.diffs.length === 0), {
        timeoutMs: 60_000,
        intervalMs: 500,
        message: `${sink} to hold what the source holds`,
      });
      const verified = await verifyCli(daemon.configFile, `${name}_src`, sink);
      expect(verified.code, verified.out).toBe(0);
      expect(verified.out).toMatch(/no difference in 1 table\(s\)/);
    }
    const [{ n }] = (await targets[0]!.rows("SELECT count(*) AS n FROM orders")) as [{ n: string }];
    expect(Number(n)).toBeGreaterThan(20);

    // a row changed behind the sink's back is found and named
    const [changed] = await targets[0]!.rows("SELECT id FROM orders ORDER BY id LIMIT 1");
    await targets[0]!.rows(`UPDATE orders SET qty = qty + 1000 WHERE id = ${String(changed!.id)}`);
    const diff = await verifyCli(daemon.configFile, `${name}_src`, `${name}_pg`);
    expect(diff.code, diff.out).toBe(1);
    expect(diff.out).toContain(`different 1: ${String(changed!.id)}`);
  });
});
