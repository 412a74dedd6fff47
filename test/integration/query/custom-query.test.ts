/** A custom query: the user writes the SELECT, Liberator adds the incremental predicate, order and limit. */
import { beforeAll, describe, expect, it } from "vitest";
import { after, expectOps, openSource, queryConfig, readUntil, databaseFor } from "./fixtures.js";

describe.each(["mariadb", "postgres"] as const)("custom query on %s", (kind) => {
  const db = databaseFor(kind);
  beforeAll(async () => {
    const serial = kind === "mariadb" ? "INT AUTO_INCREMENT" : "SERIAL";
    await db.exec(`CREATE TABLE customers (id ${serial} PRIMARY KEY, name VARCHAR(40) NOT NULL)`);
    await db.exec(`CREATE TABLE orders (id ${serial} PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(12,2) NOT NULL, status VARCHAR(10) NOT NULL)`);
    await db.exec("INSERT INTO customers (name) VALUES ('Ada'), ('Grace')");
    await db.exec("INSERT INTO orders (customer_id, total, status) VALUES (1, 10.50, 'paid'), (2, 99.99, 'open'), (2, 5.00, 'paid')");
  });

  it("reads the query's rows incrementally, with the joined columns typed as their tables define them", async () => {
    const config = queryConfig(db, {
      query: {
        sql: "SELECT o.id, o.total, o.total * 2 AS doubled, c.name AS customer FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = 'paid'",
        topic: `${db.name}.paid_orders`,
        mode: "incrementing",
        incrementingColumn: "id",
        keyColumns: ["id"],
      },
    });
    const source = openSource(config);
    await source.open(null);
    const load = await readUntil(source, (r) => r.length >= 2);
    expectOps(load.records, ["r:1", "r:3"]);
    expect(after(load.records[1]!)).toEqual({ id: 3, total: "5.00", doubled: "10.00", customer: "Grace" });
    expect(load.records[0]!.topic).toBe(`${db.name}.paid_orders`);
    // DECIMAL(12,2) comes from the table; the expression's own type is reported by the database
    type Record = { fields: { name: string; type: unknown }[] };
    const before = (load.records[0]!.valueSchema as Record).fields.find((f) => f.name === "before")!.type as [string, Record];
    const total = before[1].fields.find((f) => f.name === "total")!.type;
    expect(JSON.stringify(total)).toContain('"logicalType":"decimal","precision":12,"scale":2');

    await db.exec("INSERT INTO orders (customer_id, total, status) VALUES (1, 1.25, 'open'), (1, 2.50, 'paid')");
    const live = await readUntil(source, (r) => r.length >= 1);
    expectOps(live.records, ["c:5"]);
    expect(after(live.records[0]!)).toMatchObject({ id: 5, customer: "Ada" });
    await source.close();
  });
});
