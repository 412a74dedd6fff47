/** Hard deletes, which no poll can see, found by comparing the keys emitted with the table. */
import { describe, expect, it } from "vitest";
import type { Position } from "../../../src/runtime/connector.js";
import { expectOps, openSource, queryConfig, readUntil, databaseFor } from "./fixtures.js";

describe.each(["mariadb", "postgres"] as const)("hard-delete detection on %s", (kind) => {
  const db = databaseFor(kind);

  it("emits a delete and a tombstone for rows deleted since they were emitted, also across a restart", async () => {
    await db.exec(`CREATE TABLE gone (id ${kind === "mariadb" ? "INT AUTO_INCREMENT" : "SERIAL"} PRIMARY KEY, v INT NOT NULL)`);
    await db.exec("INSERT INTO gone (v) VALUES (1), (2), (3), (4), (5)");
    const config = queryConfig(db, { tables: [`${db.schema}.gone`], mode: "incrementing", deletes: { detect: "checksum", intervalMs: 300 } });
    const source = openSource(config);
    await source.open(null);
    expectOps((await readUntil(source, (r) => r.length >= 5)).records, ["r:1", "r:2", "r:3", "r:4", "r:5"]);

    // a row emitted live and deleted before the next pass is found too
    await db.exec("INSERT INTO gone (v) VALUES (6)");
    expectOps((await readUntil(source, (r) => r.length >= 1)).records, ["c:6"]);
    await db.exec("DELETE FROM gone WHERE id IN (2, 4, 6)");
    const pass = await readUntil(source, (r) => r.length >= 6);
    expectOps(pass.records, ["d:2", "tombstone:2", "d:4", "tombstone:4", "d:6", "tombstone:6"]);
    await source.close();

    // deleted while the connector was down: the keys emitted travel in the position
    await db.exec("DELETE FROM gone WHERE id = 5");
    const resumed = openSource(config);
    await resumed.open(pass.position);
    const after = await readUntil(resumed, (r) => r.length >= 2);
    expectOps(after.records, ["d:5", "tombstone:5"]);
    await resumed.close();
    expect(keysIn(after.position)).toBeDefined();
  });

  it("spreads the deletes of a pass over batches of at most batch.maxRecords", async () => {
    await db.exec(`CREATE TABLE many (id ${kind === "mariadb" ? "INT AUTO_INCREMENT" : "SERIAL"} PRIMARY KEY, v INT NOT NULL)`);
    await db.exec(`INSERT INTO many (v) SELECT 1 FROM ${kind === "mariadb" ? "seq_1_to_600" : "generate_series(1, 600)"}`);
    const source = openSource(queryConfig(db, { tables: [`${db.schema}.many`], mode: "incrementing", deletes: { detect: "checksum", intervalMs: 300 } }));
    await source.open(null);
    await readUntil(source, (r) => r.length >= 600);
    await db.exec("DELETE FROM many WHERE id % 2 = 0");
    const sizes: number[] = [];
    let deletes = 0;
    while (deletes < 300) {
      const batch = (await source.read())!;
      sizes.push(batch.records.length);
      deletes += batch.records.filter((r) => r.value === null).length;
    }
    // the acceptance suite's context caps batches at 500 records
    expect(Math.max(...sizes)).toBeLessThanOrEqual(500);
    expect(sizes.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    await source.close();
  });

  it("works with composite and text keys", async () => {
    await db.exec("CREATE TABLE pairs (region VARCHAR(10) NOT NULL, code VARCHAR(10) NOT NULL, n INT NOT NULL, PRIMARY KEY (region, code))");
    await db.exec("INSERT INTO pairs VALUES ('eu', 'a', 1), ('eu', 'b', 2), ('us', 'a', 3)");
    const source = openSource(queryConfig(db, { tables: [`${db.schema}.pairs`], mode: "bulk", pollIntervalMs: 60_000, deletes: { detect: "checksum", intervalMs: 200 } }));
    await source.open(null);
    expectOps((await readUntil(source, (r) => r.length >= 3)).records, ["r:eu", "r:eu", "r:us"], "region");
    await db.exec("DELETE FROM pairs WHERE region = 'eu' AND code = 'b'");
    const pass = await readUntil(source, (r) => r.length >= 2);
    expect(pass.records.map((r) => r.key)).toEqual([
      { region: "eu", code: "b" },
      { region: "eu", code: "b" },
    ]);
    expectOps(pass.records, ["d:eu", "tombstone:eu"], "region");
    await source.close();
  });
});

function keysIn(position: Position): unknown {
  const streams = (position as { streams: Record<string, { keys?: string[] }> }).streams;
  return Object.values(streams)[0]?.keys;
}
