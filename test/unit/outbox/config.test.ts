import { describe, expect, it } from "vitest";
import "../../../src/connectors.js";
import { parseConfig } from "../../../src/runtime/config/load.js";
import { ConfigError } from "../../../src/runtime/errors.js";
import { parseTableName } from "../../../src/runtime/db/identifiers.js";

const load = (connector: string) => parseConfig(`kafka:\n  brokers: [localhost:9092]\nconnectors:\n${connector}`, "/etc/liberator/connectors.yaml", { env: {} });

describe("outbox config", () => {
  it("fills the defaults: the port of the dialect, the standard columns, delete, NOTIFY", () => {
    const [mysql] = load("  - name: o\n    type: outbox\n    dialect: mysql\n    connection: { user: app, database: shop }\n").connectors;
    expect(mysql!.config).toMatchObject({
      connection: { port: 3306, host: "127.0.0.1" },
      table: "outbox",
      columns: { id: "id", aggregateType: "aggregate_type", payload: "payload", createdAt: "created_at" },
      topic: "{topicPrefix}.{aggregate_type}",
      cleanup: "delete",
      pollIntervalMs: 1000,
      subject: "{topic}-{record}",
    });
    const [pg] = load("  - name: o\n    type: outbox\n    dialect: postgres\n    connection: { user: app }\n").connectors;
    expect(pg!.config).toMatchObject({ connection: { port: 5432 }, notify: true });
  });

  it("says which event type lacks a schema, on its line", () => {
    try {
      load("  - name: o\n    type: outbox\n    dialect: mysql\n    connection: { user: app }\n    events:\n      OrderPaid: { version: 2 }\n");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.join("\n")).toMatch(/connectors\.yaml:9 connector "o": events\.OrderPaid .*needs `schema`.* or `subject`/);
    }
  });

  it("reads table names plain, qualified or quoted", () => {
    expect(parseTableName("outbox", "postgres", "public")).toEqual({ schema: "public", table: "outbox" });
    expect(parseTableName('"My Schema"."Out.box"', "postgres", "public")).toEqual({ schema: "My Schema", table: "Out.box" });
    expect(parseTableName("shop.`events`", "mysql", undefined)).toEqual({ schema: "shop", table: "events" });
    expect(() => parseTableName("outbox", "mysql", undefined)).toThrow(/must be qualified, e\.g\. shop\.outbox/);
  });
});
