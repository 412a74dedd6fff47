import { describe, expect, it } from "vitest";
import "../../../src/connectors.js";
import { parseConfig } from "../../../src/runtime/config/load.js";
import { ConfigError } from "../../../src/runtime/errors.js";
import type { QueryConfig } from "../../../src/sources/query/config.js";

const yaml = (connector: string) => `kafka:
  brokers: [localhost:9092]
connectors:
  - name: shop
    type: query
${connector
  .trim()
  .split("\n")
  .map((l) => `    ${l}`)
  .join("\n")}
`;

function parse(connector: string): QueryConfig {
  return parseConfig(yaml(connector), "/x/connectors.yaml", { env: {} }).connectors[0]!.config as unknown as QueryConfig;
}

function problems(connector: string): string[] {
  try {
    parse(connector);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe("query source config", () => {
  it("fills the defaults: port by dialect, topics under the connector's name, production polling", () => {
    const c = parse(`
dialect: postgres
connection: { user: app, database: shop }
mode: incrementing
tables: [orders, sales.refunds]`);
    expect(c.connection.port).toBe(5432);
    expect(c.streams.map((s) => [s.schema, s.table, s.topic])).toEqual([
      ["public", "orders", "shop.public.orders"],
      ["sales", "refunds", "shop.sales.refunds"],
    ]);
    expect(c).toMatchObject({ pollIntervalMs: 1000, batchSize: 10_000, delayMs: 1000, maxRowsPerSecond: 0, deletes: { detect: "none" }, busy: { maxThreadsRunning: 0 } });
    // the fields every connector has pass through; the per-stream ones live in `streams`
    expect(c).toMatchObject({ name: "shop", type: "query", enabled: true, batch: { maxRecords: 10_000 } });
    expect(c).not.toHaveProperty("mode");
    expect(c).not.toHaveProperty("tables");
  });

  it("takes mariadb for mysql, a table's own options over the connector's, and durations with units", () => {
    const c = parse(`
dialect: mariadb
connection: { user: app, port: "3307" }
topicPrefix: legacy
mode: timestamp
timestampColumn: updated_at
pollIntervalMs: 5s
tables:
  - shop.orders
  - { name: shop.items, mode: incrementing, softDelete: { column: deleted_at } }`);
    expect(c.dialect).toBe("mysql");
    expect(c.connection.port).toBe(3307);
    expect(c.pollIntervalMs).toBe(5000);
    expect(c.streams[0]).toMatchObject({ topic: "legacy.shop.orders", mode: "timestamp", timestampColumn: "updated_at" });
    expect(c.streams[1]).toMatchObject({ topic: "legacy.shop.items", mode: "incrementing", softDelete: { column: "deleted_at" } });
  });

  it("describes a custom query with its topic and key", () => {
    const c = parse(`
dialect: mysql
connection: { user: app, database: shop }
query:
  sql: SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id
  topic: shop.order_names
  mode: incrementing
  incrementingColumn: id
  keyColumns: id`);
    expect(c.streams).toEqual([
      expect.objectContaining({ topic: "shop.order_names", table: "order_names", schema: "shop", keyColumns: ["id"], sql: expect.stringContaining("JOIN customers") }),
    ]);
  });

  it("names each missing piece with its line: no mode, no timestamp column, a custom query without its columns, a table without database", () => {
    expect(
      problems(`
dialect: mysql
connection: { user: app }
tables:
  - orders
  - { name: shop.items, mode: timestamp }
query: { sql: SELECT 1 AS id, topic: t, mode: timestamp+incrementing, timestampColumn: ts }`),
    ).toEqual([
      'connectors.yaml:9 connector "shop": tables.0.mode is required (here or for the whole connector): one of bulk|incrementing|timestamp|timestamp+incrementing, got nothing',
      'connectors.yaml:9 connector "shop": tables.0 names no database: write it as database.table, or set connection.database, got "orders"',
      'connectors.yaml:10 connector "shop": tables.1.timestampColumn is required for mode timestamp, got nothing',
      'connectors.yaml:11 connector "shop": query.incrementingColumn is required for mode timestamp+incrementing of a custom query (a query has no primary key to default to), got nothing',
    ]);
  });

  it("refuses two streams on one topic, unknown keys and unknown modes", () => {
    expect(problems("dialect: postgres\nconnection: { user: a }\nmode: bulk\ntables: [orders, public.orders]")).toEqual([
      expect.stringContaining("tables two streams write the same topic"),
    ]);
    expect(problems("dialect: postgres\nconnection: { user: a }\nmode: bulk\ntables: [orders]\npollInterval: 5")[0]).toContain('pollInterval is not a known key (did you mean "pollIntervalMs"?)');
    expect(problems("dialect: postgres\nconnection: { user: a }\nmode: snapshot\ntables: [orders]")[0]).toContain("mode must be one of bulk|incrementing|timestamp|timestamp+incrementing");
  });
});
