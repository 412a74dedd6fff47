import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Source } from "../../../src/runtime/connector.js";
import { readRecords } from "../../acceptance/source-suite.js";
import { binlogSource, scratchDatabase } from "./support.js";

describe("binlog table filters and column policies", () => {
  const db = scratchDatabase();
  let source: Source;

  beforeAll(async () => {
    await db.conn.query("CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(80) NOT NULL, ssn CHAR(11) NULL, name VARCHAR(40) NOT NULL); CREATE TABLE audit_log (id INT PRIMARY KEY)");
    await db.conn.query("INSERT INTO customers VALUES (1, 'ann@example.com', '123-45-6789', 'Ann'); INSERT INTO audit_log VALUES (1)");
    source = binlogSource(db.name, {
      exclude: [`${db.name}.audit_*`],
      tables: { [`${db.name}.customers`]: { columns: { exclude: ["ssn"], mask: ["name"], hash: ["email"] } } },
      hashKey: "a secret of sixteen+ characters",
    });
    await source.open(null);
  });

  afterAll(async () => {
    await source?.close();
  });

  it("captures only included tables, and leaves out, masks and hashes the configured columns in the copy and the stream", async () => {
    const copied = (await readRecords(source, 1)).records;
    await db.conn.query("INSERT INTO audit_log VALUES (2); INSERT INTO customers VALUES (2, 'bob@example.com', NULL, 'Bob')");
    const streamed = (await readRecords(source, 1)).records;
    const records = [...copied, ...streamed];
    const rows = records.map((r) => (r.value as { after: Record<string, unknown> }).after);
    expect(records.map((r) => [r.topic.split(".").at(-1), (r.value as { op: string }).op, (r.key as { id: number }).id])).toEqual([
      ["customers", "r", 1],
      ["customers", "c", 2],
    ]);
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(["id", "email", "name"]);
      expect(row.name).toBe("****");
      expect(row.email).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});
