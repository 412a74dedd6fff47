import { describe, expect, it } from "vitest";
import type { Envelope } from "../../../src/runtime/sql-types/envelope.js";
import { assertEncodable } from "../../acceptance/avro.js";
import { after, expectOps, openSource, queryConfig, readFor, readUntil, databaseFor, type Kind } from "./fixtures.js";

/** An orders table with an auto-increment id, created and updated stamps, and a soft-delete flag. */
function ordersTable(kind: Kind, name: string): string {
  return kind === "mariadb"
    ? `CREATE TABLE ${name} (
         id BIGINT AUTO_INCREMENT PRIMARY KEY,
         item VARCHAR(40) NOT NULL,
         qty INT NOT NULL,
         price DECIMAL(10,2) NOT NULL,
         deleted TINYINT NOT NULL DEFAULT 0,
         created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
         updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
         INDEX (updated_at))`
    : `CREATE TABLE ${name} (
         id BIGSERIAL PRIMARY KEY,
         item VARCHAR(40) NOT NULL,
         qty INT NOT NULL,
         price NUMERIC(10,2) NOT NULL,
         deleted BOOLEAN NOT NULL DEFAULT false,
         created_at TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
         updated_at TIMESTAMPTZ(6) NOT NULL DEFAULT now());
       CREATE INDEX ON ${name} (updated_at, id)`;
}

/** An UPDATE that moves updated_at on both databases (PostgreSQL has no ON UPDATE). */
function touch(kind: Kind, table: string, set: string, where: string): string {
  return kind === "mariadb" ? `UPDATE ${table} SET ${set} WHERE ${where}` : `UPDATE ${table} SET ${set}, updated_at = now() WHERE ${where}`;
}

const insert = (table: string, n: number, from = 1) =>
  `INSERT INTO ${table} (item, qty, price) VALUES ${Array.from({ length: n }, (_, i) => `('item ${from + i}', ${from + i}, ${from + i}.50)`).join(", ")}`;

describe.each(["mariadb", "postgres"] as const)("query source modes on %s", (kind) => {
  const db = databaseFor(kind);

  it("bulk: every poll re-reads the whole table in key order as snapshot reads", async () => {
    await db.exec(ordersTable(kind, "bulk_orders"));
    await db.exec(insert("bulk_orders", 3));
    const source = openSource(queryConfig(db, { tables: [`${db.schema}.bulk_orders`], mode: "bulk", batchSize: 2 }));
    await source.open(null);
    const first = await readUntil(source, (r) => r.length >= 3);
    expectOps(first.records, ["r:1", "r:2", "r:3"]);
    expect((first.records[0]!.value as Envelope).source.snapshot).toBe("true");
    await db.exec(touch(kind, "bulk_orders", "qty = 99", "id = 2"));
    const second = await readUntil(source, (r) => r.length >= 3);
    expectOps(second.records, ["r:1", "r:2", "r:3"]);
    expect(after(second.records[1]!).qty).toBe(99);
    expect((second.position as { streams: Record<string, { pass: number }> }).streams[`${first.records[0]!.topic}`]!.pass).toBeGreaterThanOrEqual(1);
    await source.close();
  });

  it("incrementing: loads what is there, then emits each new row once as a create and resumes from its position", async () => {
    await db.exec(ordersTable(kind, "inc_orders"));
    await db.exec(insert("inc_orders", 3));
    const config = queryConfig(db, { tables: [`${db.schema}.inc_orders`], mode: "incrementing" });
    const source = openSource(config);
    await source.open(null);
    const load = await readUntil(source, (r) => r.length >= 3);
    expectOps(load.records, ["r:1", "r:2", "r:3"]);
    for (const r of load.records) await assertEncodable(r);
    expect(after(load.records[0]!)).toMatchObject({ id: 1n, item: "item 1", qty: 1, price: "1.50" });

    await db.exec(insert("inc_orders", 2, 4));
    const live = await readUntil(source, (r) => r.length >= 2);
    expectOps(live.records, ["c:4", "c:5"]);
    await db.exec(touch(kind, "inc_orders", "qty = 7", "id = 1"));
    expect(await readFor(source, 600), "incrementing mode does not see updates").toEqual([]);
    await source.close();

    await db.exec(insert("inc_orders", 1, 6));
    const resumed = openSource(config);
    await resumed.open(live.position);
    const next = await readUntil(resumed, (r) => r.length >= 1);
    expectOps(next.records, ["c:6"]);
    await resumed.close();
  });

  it("timestamp: updates are read again, rows sharing one timestamp are paged by key, soft deletes become a delete and a tombstone", async () => {
    await db.exec(ordersTable(kind, "ts_orders"));
    // five rows of one statement share their timestamp; pages of two must neither skip nor repeat one
    await db.exec(insert("ts_orders", 5));
    const source = openSource(
      queryConfig(db, {
        tables: [{ name: `${db.schema}.ts_orders`, createdColumn: "created_at", softDelete: { column: "deleted", value: kind === "mariadb" ? 1 : true } }],
        mode: "timestamp",
        timestampColumn: "updated_at",
        batchSize: 2,
      }),
    );
    await source.open(null);
    const load = await readUntil(source, (r) => r.length >= 5);
    expectOps(load.records, ["r:1", "r:2", "r:3", "r:4", "r:5"]);

    await db.exec(touch(kind, "ts_orders", "qty = 42", "id = 2"));
    await db.exec(insert("ts_orders", 1, 6));
    const live = await readUntil(source, (r) => r.length >= 2);
    expectOps(live.records, ["u:2", "c:6"]);
    expect(after(live.records[0]!).qty).toBe(42);

    await db.exec(touch(kind, "ts_orders", `deleted = ${kind === "mariadb" ? 1 : "true"}`, "id = 3"));
    const deleted = await readUntil(source, (r) => r.length >= 2);
    expectOps(deleted.records, ["d:3", "tombstone:3"]);
    expect((deleted.records[0]!.value as Envelope).before).toMatchObject({ id: 3n, qty: 3 });
    await source.close();
  });

  it("timestamp+incrementing: a row beyond the highest id read is a create, a changed older row an update", async () => {
    await db.exec(ordersTable(kind, "tsinc_orders"));
    await db.exec(insert("tsinc_orders", 2));
    const source = openSource(queryConfig(db, { tables: [`${db.schema}.tsinc_orders`], mode: "timestamp+incrementing", timestampColumn: "updated_at" }));
    await source.open(null);
    expectOps((await readUntil(source, (r) => r.length >= 2)).records, ["r:1", "r:2"]);
    await db.exec(insert("tsinc_orders", 1, 3));
    await db.exec(touch(kind, "tsinc_orders", "qty = 5", "id = 1"));
    const live = await readUntil(source, (r) => r.length >= 2);
    expectOps(live.records, ["c:3", "u:1"]);
    for (const r of live.records) await assertEncodable(r);
    await source.close();
  });
});

describe.each([
  ["mariadb", "+05:00", "CONVERT_TZ(UTC_TIMESTAMP(6), '+00:00', '+05:00')", "DATETIME(6)"],
  ["postgres", "Asia/Karachi", "(now() AT TIME ZONE 'Asia/Karachi')", "TIMESTAMP(6)"],
] as const)("wall-clock timestamps on %s", (kind, zone, localNow, type) => {
  const db = databaseFor(kind);

  it("reads rows stamped in the writers' zone once timeZone names it", async () => {
    await db.exec(`CREATE TABLE local_stamps (id INT PRIMARY KEY, updated_at ${type} NOT NULL)`);
    await db.exec(`INSERT INTO local_stamps VALUES (1, ${localNow})`);
    const source = openSource(queryConfig(db, { tables: [`${db.schema}.local_stamps`], mode: "timestamp", timestampColumn: "updated_at", timeZone: zone }));
    await source.open(null);
    expectOps((await readUntil(source, (r) => r.length >= 1)).records, ["r:1"]);
    // five hours ahead of UTC: read as UTC, the row would wait five hours
    await db.exec(`INSERT INTO local_stamps VALUES (2, ${localNow})`);
    expectOps((await readUntil(source, (r) => r.length >= 1, 10_000)).records, ["u:2"]);
    await source.close();
  });
});
