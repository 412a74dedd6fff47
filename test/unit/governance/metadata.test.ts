import { describe, expect, it } from "vitest";
import { byteRate, streamsConfigSchema } from "../../../src/runtime/governance/config.js";
import { StreamDeclarations, isBare } from "../../../src/runtime/governance/metadata.js";

const declarations = (config: unknown) => new StreamDeclarations(streamsConfigSchema.parse(config));

describe("stream declarations", () => {
  it("layers defaults, the connector's, topic patterns in order, then the exact topic", () => {
    const d = declarations({
      defaults: { owner: "platform", namespace: "all", description: "default" },
      connectors: { shop: { owner: "shop-team" } },
      topics: { "demo.shop.*": { namespace: "shop", description: "pattern" }, "demo.shop.customers": { description: "customers" } },
    });
    expect(d.resolve("demo.shop.customers", "shop")).toMatchObject({ owner: "shop-team", namespace: "shop", description: "customers" });
    expect(d.resolve("demo.shop.orders", "shop")).toMatchObject({ owner: "shop-team", namespace: "shop", description: "pattern" });
    expect(d.resolve("other.topic", "billing")).toMatchObject({ owner: "platform", namespace: "all", description: "default" });
    expect(d.resolve("demo.shop.orders")).toMatchObject({ owner: "platform" });
  });

  it("adds PII and financial fields up across levels; a field's handling comes from the most specific level that gives one", () => {
    const d = declarations({
      defaults: { pii: ["email"], piiHandling: "mask", financial: ["amount"] },
      topics: { "t.*": { pii: { ssn: "drop", email: "hash" } }, "t.one": { pii: ["phone"], piiHandling: "clear", financial: ["fee"] } },
      hashKey: "0123456789abcdef",
    });
    const one = d.resolve("t.one");
    expect(Object.fromEntries(one.pii)).toEqual({ phone: "clear", email: "hash", ssn: "drop" });
    expect([...one.financial].sort()).toEqual(["amount", "fee"]);
    expect(Object.fromEntries(d.resolve("x").pii)).toEqual({ email: "mask" });
  });

  it("treats * and ? as wildcards and everything else literally", () => {
    const d = declarations({ topics: { "a.b?.*": { owner: "o" } } });
    expect(d.resolve("a.b1.c").owner).toBe("o");
    expect(d.resolve("aXb1.c").owner).toBeUndefined();
    expect(d.resolve("a.b12.c").owner).toBeUndefined();
    expect(d.exactTopics()).toEqual([]);
  });

  it("lets an exact topic undo a deprecation declared by a pattern", () => {
    const d = declarations({ topics: { "old.*": { deprecated: { replacement: "new.x", date: "2030-01-31" } }, "old.keep": { deprecated: false } } });
    expect(d.resolve("old.gone").deprecated).toEqual({ replacement: "new.x", date: "2030-01-31" });
    expect(d.resolve("old.keep").deprecated).toBeUndefined();
    expect(isBare(d.resolve("old.keep"))).toBe(true);
  });

  it("needs a hash key as soon as any level hashes, and refuses a short one", () => {
    const needs = streamsConfigSchema.safeParse({ topics: { t: { pii: { email: "hash" } } } });
    expect(needs.success).toBe(false);
    expect(needs.error?.issues[0]?.path).toEqual(["hashKey"]);
    expect(streamsConfigSchema.safeParse({ defaults: { pii: ["email"], piiHandling: "hash" }, hashKey: "short" }).success).toBe(false);
    expect(streamsConfigSchema.safeParse({ topics: { t: { pii: { email: "mask" } } } }).success).toBe(true);
  });

  it("reads byte rates with units", () => {
    expect(byteRate().parse("10MiB")).toBe(10 * 1024 * 1024);
    expect(byteRate().parse("5MB/s")).toBe(5_000_000);
    expect(byteRate().parse(1024)).toBe(1024);
    expect(byteRate().safeParse("fast").success).toBe(false);
  });
});
