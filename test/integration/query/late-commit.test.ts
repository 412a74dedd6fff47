/**
 * The trap a polling source falls into (Confluent's JDBC source does): ids and timestamps are
 * handed out inside a transaction, not at its commit. A transaction that commits after a later
 * row was polled must still reach Kafka, exactly once.
 */
import { afterAll, describe, expect, it } from "vitest";
import { uniqueName, waitFor } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { connectorEntry, opsOf, readDecoded, databaseFor, type Kind } from "./fixtures.js";

function table(kind: Kind, name: string): string {
  return kind === "mariadb"
    ? `CREATE TABLE ${name} (id INT AUTO_INCREMENT PRIMARY KEY, who VARCHAR(10) NOT NULL, updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))`
    : `CREATE TABLE ${name} (id SERIAL PRIMARY KEY, who VARCHAR(10) NOT NULL, updated_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())`;
}

describe.each(["mariadb", "postgres"] as const)("late commits on %s", (kind) => {
  const db = databaseFor(kind);
  let daemon: Daemon | undefined;
  afterAll(async () => {
    await daemon?.stop();
  });

  it("delivers a row whose transaction commits after a later row was polled, exactly once, in incrementing and timestamp+incrementing modes", async () => {
    await db.exec(table(kind, "by_id"));
    await db.exec(table(kind, "by_time"));
    await db.exec("INSERT INTO by_id (who) VALUES ('seed')");
    await db.exec("INSERT INTO by_time (who) VALUES ('seed')");
    const name = uniqueName("late");
    daemon = await startDaemon({
      connectors: [
        connectorEntry(db, name, {
          tables: [
            { name: `${db.schema}.by_id`, mode: "incrementing" },
            { name: `${db.schema}.by_time`, mode: "timestamp+incrementing", timestampColumn: "updated_at" },
          ],
        }),
      ],
    });
    await daemon.waitReady();
    const byId = `${name}.${db.schema}.by_id`;
    const byTime = `${name}.${db.schema}.by_time`;
    const admin = daemon.adminUrl;
    expect(opsOf(await readDecoded(admin, byId, 1))).toEqual(["r:1"]);
    expect(opsOf(await readDecoded(admin, byTime, 1))).toEqual(["r:1"]);

    // A takes id 2 and an earlier timestamp, and stays open
    const a = await db.session();
    const b = await db.session();
    try {
      await a.exec("BEGIN");
      await a.exec("INSERT INTO by_id (who) VALUES ('A')");
      await a.exec("INSERT INTO by_time (who) VALUES ('A')");
      // B takes id 3 and a later timestamp, and commits
      await b.exec("BEGIN");
      await b.exec("INSERT INTO by_id (who) VALUES ('B')");
      await b.exec("INSERT INTO by_time (who) VALUES ('B')");
      await b.exec("COMMIT");

      // polls run: B's rows are visible to them, yet held back, since A may still commit older rows
      const committedB = Date.now();
      await waitFor(
        async () => {
          const horizon = (await daemon!.status(name))?.details as { horizon?: { serverNow?: string } } | undefined;
          return horizon?.horizon?.serverNow && Date.parse(horizon.horizon.serverNow) > committedB + 1000;
        },
        { timeoutMs: 60_000, message: "polls after B committed" },
      );
      expect(opsOf(await readDecoded(admin, byId)), "B's id is held back while A is open").toEqual(["r:1"]);
      expect(opsOf(await readDecoded(admin, byTime)), "B's timestamp is held back while A is open").toEqual(["r:1"]);

      await a.exec("COMMIT");
    } finally {
      await a.close();
      await b.close();
    }

    for (const topic of [byId, byTime]) {
      const records = await readDecoded(admin, topic, 3, 60_000);
      expect(opsOf(records), topic).toEqual(["r:1", "c:2", "c:3"]);
      expect(records.map((r) => r.value!.after!.who)).toEqual(["seed", "A", "B"]);
    }
    // nothing arrives twice later on
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(opsOf(await readDecoded(admin, byId))).toEqual(["r:1", "c:2", "c:3"]);
    expect(opsOf(await readDecoded(admin, byTime))).toEqual(["r:1", "c:2", "c:3"]);
    const stopped = await daemon.stop();
    daemon = undefined;
    expect(stopped.code).toBe(0);
  });
});
