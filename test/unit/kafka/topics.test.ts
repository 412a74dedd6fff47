import { describe, expect, it } from "vitest";
import { resolveTopics, topicMatcher } from "../../../src/runtime/kafka/topics.js";

describe("sink topic entries", () => {
  const existing = ["shop.shop.orders", "shop.shop.items", "shop.inventory.bins", "shopping.x", "_liberator_offsets", "_liberator_dlq.shop", "__consumer_offsets"];

  it("match by name, and by pattern across dots, never an internal topic unless the pattern starts with _", () => {
    expect(resolveTopics(["shop.*"], existing).topics).toEqual(["shop.inventory.bins", "shop.shop.items", "shop.shop.orders"]);
    expect(resolveTopics(["*"], existing).topics).toEqual(["shop.inventory.bins", "shop.shop.items", "shop.shop.orders", "shopping.x"]);
    expect(resolveTopics(["_liberator_dlq.*"], existing).topics).toEqual(["_liberator_dlq.shop"]);
    expect(topicMatcher(["shop.*.orders"])("shop.shop.orders")).toBe(true);
    expect(topicMatcher(["shop.*.orders"])("shopXshop.orders")).toBe(false);
  });

  it("name the entries that have no topic yet: missing names and patterns that match none", () => {
    expect(resolveTopics(["shop.shop.orders", "shop.shop.later", "crm.*", "shop.inventory.*"], existing)).toEqual({
      topics: ["shop.inventory.bins", "shop.shop.orders"],
      missing: ["shop.shop.later", "crm.*"],
    });
  });
});
