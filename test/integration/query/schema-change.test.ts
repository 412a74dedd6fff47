/**
 * Schema follows the table: a DDL on a polled table gives the stream a new schema, checked against
 * the subject's compatibility rule before any row with it is produced.
 */
import { afterAll, describe, expect, it } from "vitest";
import { uniqueName } from "../../harness/index.js";
import { startDaemon, untilFailed, type Daemon } from "../../support/daemon.js";
import { connectorEntry, readDecoded, databaseFor } from "./fixtures.js";

describe.each(["mariadb", "postgres"] as const)("query source schema changes on %s", (kind) => {
  const db = databaseFor(kind);
  let daemon: Daemon | undefined;
  afterAll(async () => {
    await daemon?.stop();
  });

  it("reads a column added to the table in the next rows, and stops at a change that breaks BACKWARD compatibility", async () => {
    await db.exec(`CREATE TABLE items (id ${kind === "mariadb" ? "INT AUTO_INCREMENT" : "SERIAL"} PRIMARY KEY, qty INT NOT NULL)`);
    await db.exec("INSERT INTO items (qty) VALUES (1)");
    const name = uniqueName("ddl");
    const topic = `${name}.${db.schema}.items`;
    daemon = await startDaemon({ connectors: [connectorEntry(db, name, { tables: [`${db.schema}.items`], mode: "incrementing" })] });
    await daemon.waitReady();
    await readDecoded(daemon.adminUrl, topic, 1);

    await db.exec("ALTER TABLE items ADD COLUMN color VARCHAR(10) NULL");
    await db.exec("INSERT INTO items (qty, color) VALUES (2, 'red')");
    const records = await readDecoded(daemon.adminUrl, topic, 2);
    expect(records[0]!.value!.after).toEqual({ id: 1, qty: 1 });
    expect(records[1]!.value!.after).toEqual({ id: 2, qty: 2, color: "red" });
    const versions = (await (await fetch(`${daemon.adminUrl}/subjects/${topic}-value/versions`)).json()) as number[];
    expect(versions).toEqual([1, 2]);

    // an int that becomes text cannot be read by consumers of the old schema
    await db.exec(kind === "mariadb" ? "ALTER TABLE items MODIFY qty VARCHAR(10) NOT NULL" : "ALTER TABLE items ALTER COLUMN qty TYPE VARCHAR(10)");
    await db.exec("INSERT INTO items (qty, color) VALUES ('3', 'blue')");
    const status = await untilFailed(daemon, name, 20_000);
    expect(status.lastError?.code).toBe("SCHEMA_INCOMPATIBLE");
    expect(status.lastError?.message).toContain(`${topic}-value`);
    expect(status.lastError?.message).toContain("qty");
    // nothing with the new schema was produced
    expect((await readDecoded(daemon.adminUrl, topic)).length).toBe(2);
  });
});
