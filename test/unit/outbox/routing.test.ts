import { describe, expect, it } from "vitest";
import { outboxConfig } from "../../../src/sources/outbox/config.js";
import { eventHeaders, eventTime, Router } from "../../../src/sources/outbox/routing.js";
import type { OutboxRow } from "../../../src/sources/outbox/table.js";

const base = { name: "shop", type: "outbox", dialect: "postgres", connection: { user: "u" } };
const row = (patch: Partial<OutboxRow> = {}): OutboxRow => ({
  id: 7,
  aggregateType: "Order",
  aggregateId: "42",
  type: "OrderPaid",
  payload: "{}",
  headers: null,
  createdAt: "2024-02-29 12:00:00.123456+00",
  extra: {},
  bytes: 2,
  ...patch,
});

describe("outbox routing", () => {
  it("routes to <topicPrefix>.<aggregate type> by default, following a renamed column", () => {
    expect(new Router(outboxConfig.parse(base)).topic(row())).toBe("shop.Order");
    const renamed = outboxConfig.parse({ ...base, topicPrefix: "legacy.shop", columns: { aggregateType: "kind" } });
    expect(renamed.topic).toBe("{topicPrefix}.{kind}");
    expect(new Router(renamed).topic(row())).toBe("legacy.shop.Order");
  });

  it("fills a pattern from any column, selecting the ones beyond the standard set", () => {
    const router = new Router(outboxConfig.parse({ ...base, topic: "{tenant}.{aggregate_type}.{type}" }));
    expect(router.extraColumns).toEqual(["tenant"]);
    expect(router.topic(row({ extra: { tenant: "acme" } }))).toBe("acme.Order.OrderPaid");
  });

  it("refuses a row whose columns make no valid topic name, naming the row and the pattern", () => {
    expect(() => new Router(outboxConfig.parse(base)).topic(row({ aggregateType: "Order Line" }))).toThrow(
      expect.objectContaining({ code: "OUTBOX_TOPIC_INVALID", message: expect.stringContaining('routes to "shop.Order Line" (pattern "{topicPrefix}.{aggregate_type}")') }),
    );
  });

  it("carries the row id and the row's own headers, and the event time from created_at", () => {
    expect(eventHeaders(row({ headers: '{"trace": "abc", "attempt": 2, "gone": null}' }))).toEqual({ trace: "abc", attempt: "2", id: "7" });
    expect(() => eventHeaders(row({ headers: "[1]" }))).toThrow(expect.objectContaining({ code: "OUTBOX_HEADERS_INVALID" }));
    expect(eventTime(row())).toBe(Date.UTC(2024, 1, 29, 12, 0, 0, 123));
  });
});
