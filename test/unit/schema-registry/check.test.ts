import pino from "pino";
import { describe, expect, it } from "vitest";
import { SchemaCatalog } from "../../../src/runtime/schema-registry/catalog.js";
import { checkSchemas, formatSchemaCheck } from "../../../src/runtime/schema-registry/check.js";
import { EmbeddedRegistry } from "../../../src/runtime/schema-registry/embedded-registry.js";
import { tableStream } from "../../../src/runtime/sql-types/envelope.js";
import { parseSchemaRegistryConfig } from "../../../src/runtime/schema-registry/index.js";
import type { ColumnInfo } from "../../../src/runtime/sql-types/mapping.js";
import { MemoryTopic } from "./memory-log.js";

const column = (name: string, sqlType: string, nullable = false): ColumnInfo => ({ name, dialect: "mysql", sqlType, nullable });

describe("liberator schemas check", () => {
  it("reports per subject: unchanged, compatible change, new subject, or the change that breaks consumers", async () => {
    const registry = new EmbeddedRegistry({ log: new MemoryTopic().tail(), logger: pino({ level: "silent" }), defaultCompatibility: "BACKWARD" });
    await registry.start();
    const catalog = new SchemaCatalog(registry);
    const orders = (...extra: ColumnInfo[]) => tableStream({ columns: [column("id", "bigint(20)"), column("amount", "decimal(10,2)"), ...extra], primaryKey: ["id"] }, { topic: "shop.orders" });
    const users = (email: string) => tableStream({ columns: [column("id", "int(11)"), column("email", email)], primaryKey: ["id"] }, { topic: "shop.users" });
    for (const stream of [orders(), users("varchar(100)")]) {
      await registry.register(`${stream.topic}-key`, JSON.stringify(stream.keySchema));
      await registry.register(`${stream.topic}-value`, JSON.stringify(stream.valueSchema));
    }

    const now = [orders(column("note", "text", true)), users("int(11)"), tableStream({ columns: [column("id", "int(11)")], primaryKey: [] }, { topic: "shop.audit" })];
    const report = await checkSchemas(now, catalog);

    expect(report.rows.map((r) => [r.subject, r.status])).toEqual([
      ["shop.orders-key", "unchanged"],
      ["shop.orders-value", "compatible"],
      ["shop.users-key", "unchanged"],
      ["shop.users-value", "breaking"],
      ["shop.audit-value", "new"],
    ]);
    expect(report.exitCode).toBe(1);
    expect(report.rows[3]!.messages).toEqual([
      'subject "shop.users-value": field "email" changed from string to int, which BACKWARD forbids (consumers on the new schema cannot read old records)',
    ]);
    const text = formatSchemaCheck(report);
    expect(text).toMatch(/shop\.orders-value\s+BACKWARD\s+compatible change \(would be v2\)/);
    expect(text).toMatch(/shop\.users-value\s+BACKWARD\s+BREAKING/);
    expect(text).toContain('  subject "shop.users-value": field "email" changed from string to int');
    expect(text).toContain("1 subject(s) would break their consumers.");
    expect(await registry.versions("shop.orders-value")).toEqual([1]);

    const fine = await checkSchemas([orders()], catalog);
    expect(fine.exitCode).toBe(0);
    expect(formatSchemaCheck(fine)).toContain("No change breaks a consumer.");
  });
});

describe("the schemaRegistry config block", () => {
  it("defaults to the embedded registry with BACKWARD compatibility", () => {
    const config = parseSchemaRegistryConfig(undefined);
    expect(config.url).toBeUndefined();
    expect(config).toMatchObject({ compatibility: "BACKWARD", topic: "_liberator_schemas", requestTimeoutMs: 10_000 });
  });

  it("takes a remote registry with basic auth, TLS and durations as strings", () => {
    const config = parseSchemaRegistryConfig({
      url: "https://sr.example:8081",
      basicAuth: { username: "u", password: "p" },
      tls: { ca: "PEM", rejectUnauthorized: "false" },
      compatibility: "FULL_TRANSITIVE",
      requestTimeoutMs: "5s",
    });
    expect(config).toMatchObject({ url: "https://sr.example:8081", tls: { ca: "PEM", rejectUnauthorized: false }, compatibility: "FULL_TRANSITIVE", requestTimeoutMs: 5000 });
  });

  it("names every wrong field", () => {
    expect(() => parseSchemaRegistryConfig({ url: "not a url", compatibility: "SIDEWAYS", extra: 1 })).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID", problems: expect.arrayContaining([expect.stringMatching(/^schemaRegistry\.url/), expect.stringMatching(/^schemaRegistry\.compatibility/)]) }),
    );
  });
});
