import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalForm } from "../../../src/runtime/avro/canonical.js";
import { decorateValueSchema, replaceValue } from "../../../src/runtime/governance/decorate.js";
import { envelope } from "../../../src/runtime/sql-types/envelope.js";
import { tableStream } from "../../../src/runtime/sql-types/envelope.js";
import type { ColumnInfo } from "../../../src/runtime/sql-types/mapping.js";

const col = (name: string, sqlType: string, nullable = true): ColumnInfo => ({ name, dialect: "mysql", sqlType, nullable });
const table = {
  columns: [col("id", "bigint(20)", false), col("email", "varchar(255)"), col("ssn", "char(11)"), col("salary", "decimal(10,2)"), col("notes", "text")],
  primaryKey: ["id"],
};
const fields = (schema: unknown) => (schema as { fields: { name: string; type: unknown; doc?: string; "liberator.pii"?: string }[] }).fields;

describe("column policy: exclude, mask, hash", () => {
  const stream = tableStream(table, {
    topic: "shop.hr.people",
    columns: { exclude: ["notes"], mask: ["ssn"], hash: ["email", "salary"] },
    hashKey: "k3y",
  });

  it("leaves excluded columns out of the schema and the rows", () => {
    expect(fields(stream.rowSchema).map((f) => f.name)).toEqual(["id", "email", "ssn", "salary"]);
    expect(stream.row({ id: "1", email: "a@b.c", ssn: "123-45-6789", salary: "100.00", notes: "secret" })).not.toHaveProperty("notes");
  });

  it("masks values but keeps null as null, and says so in the schema", () => {
    expect(stream.row({ id: "1", ssn: "123-45-6789" }).ssn).toBe("****");
    expect(stream.row({ id: "1", ssn: null }).ssn).toBeNull();
    expect(fields(stream.rowSchema).find((f) => f.name === "ssn")).toMatchObject({ type: ["null", "string"], "liberator.pii": "masked" });
  });

  it("hashes the canonical value with the key (HMAC-SHA256), so equal values join", () => {
    const row = stream.row({ id: "1", email: "a@b.c", salary: "100.0" });
    expect(row.email).toBe(createHmac("sha256", "k3y").update("a@b.c").digest("hex"));
    // "100.0" and "100.00" are the same DECIMAL(10,2) value: one canonical form, one hash
    expect(row.salary).toBe(stream.row({ id: "2", salary: "100.00" }).salary);
    expect(fields(stream.rowSchema).find((f) => f.name === "salary")).toMatchObject({ type: ["null", "string"], "liberator.pii": "hashed" });
  });

  it("gives a hashed column a schema of its own, even when the type stays string", () => {
    const clear = tableStream(table, { topic: "shop.hr.people" });
    const hashed = tableStream(table, { topic: "shop.hr.people", columns: { hash: ["email"] }, hashKey: "k" });
    expect(canonicalForm(hashed.valueSchema)).not.toBe(canonicalForm(clear.valueSchema));
  });

  it("refuses to mask or exclude a key column, hash without a key, or a column that does not exist", () => {
    expect(() => tableStream(table, { topic: "t", columns: { mask: ["id"] } })).toThrow(/key column "id" cannot be excluded or masked/);
    expect(() => tableStream(table, { topic: "t", columns: { hash: ["email"] } })).toThrow(/columns.hash needs a secret key/);
    expect(() => tableStream(table, { topic: "t", columns: { exclude: ["emial"] } })).toThrow(/columns.exclude names "emial", which is not a column/);
  });

  it("keeps only included columns plus the key", () => {
    const only = tableStream(table, { topic: "t", columns: { include: ["email"] } });
    expect(fields(only.rowSchema).map((f) => f.name)).toEqual(["id", "email"]);
  });

  it("is the shorthand of the stream's pii declaration: the same fields and the same values", () => {
    const clear = tableStream(table, { topic: "shop.hr.people", columns: { exclude: ["notes"] } });
    const declared = decorateValueSchema(clear.valueSchema, { pii: new Map([["ssn", "mask"], ["email", "hash"], ["salary", "hash"]]), financial: new Set() }, { topic: "shop.hr.people", hashKey: "k3y" });
    expect(canonicalForm(declared.schema)).toBe(canonicalForm(stream.valueSchema));
    const driverRow = { id: "1", email: "a@b.c", ssn: "123-45-6789", salary: "100.00", notes: "secret" };
    const source = { connector: "binlog", name: "hr", db: "hr", table: "people", ts_ms: 0 };
    expect(replaceValue(envelope("c", null, clear.row(driverRow), source), declared)).toMatchObject({ after: stream.row(driverRow) });
  });
});
