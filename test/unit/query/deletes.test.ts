import { describe, expect, it } from "vitest";
import { CHUNK_KEYS, EmittedKeys, keyIdentity, keyValues } from "../../../src/sources/query/deletes.js";

describe("the emitted key set of hard-delete detection", () => {
  it("spells a key one way whether its integer came as number or bigint, and gives its values back", () => {
    expect(keyIdentity({ id: 5 })).toBe(5);
    expect(keyIdentity({ id: 5n })).toBe(5);
    expect(keyIdentity({ id: 2n ** 63n - 1n })).toBe("9223372036854775807");
    expect(keyIdentity({ a: 5, b: "x" })).toBe(keyIdentity({ a: 5n, b: "x" }));
    expect(keyValues(keyIdentity({ a: 5, b: "x" }))).toEqual(["5", "x"]);
    expect(keyValues(keyIdentity({ code: "abc" }))).toEqual(["abc"]);
    expect(keyValues(keyIdentity({ bin: Buffer.from([1, 2]) }))).toEqual([Buffer.from([1, 2])]);
    expect(keyValues(keyIdentity({ id: 2n ** 63n - 1n }))).toEqual(["9223372036854775807"]);
  });

  it("survives its position form: the same keys after encode and decode, a key added twice kept once", () => {
    const keys = new EmittedKeys(undefined, 1 << 20, "t");
    for (let i = 0; i < CHUNK_KEYS + 10; i++) keys.add(i * 3);
    keys.add(3);
    keys.add('["eu","a"]');
    keys.remove(6);
    const again = new EmittedKeys(keys.encode(), 1 << 20, "t");
    expect(again.size).toBe(CHUNK_KEYS + 10);
    const all = Array.from({ length: again.chunkCount }, (_, i) => again.chunk(i)).flat();
    expect(new Set(all)).toEqual(new Set([...Array.from({ length: CHUNK_KEYS + 10 }, (_, i) => i * 3).filter((k) => k !== 6), '["eu","a"]']));
  });

  it("keeps a million close integer keys in a few kilobytes of position", () => {
    const keys = new EmittedKeys(undefined, 1 << 20, "t");
    for (let i = 1; i <= 1_000_000; i++) keys.add(i);
    const bytes = keys.encode().reduce((n, c) => n + c.length, 0);
    expect(bytes).toBeLessThan(64 * 1024);
  });

  it("packs chunks thinned by deletes, and says how to go on when the set outgrows deletes.maxStateBytes", () => {
    const keys = new EmittedKeys(undefined, 4096, "table shop.orders");
    for (let i = 0; i < CHUNK_KEYS * 4; i++) keys.add(i);
    for (let i = 0; i < CHUNK_KEYS * 4; i++) if (i % 8 !== 0) keys.remove(i);
    keys.compact();
    expect(keys.chunkCount).toBe(1);
    expect(keys.size).toBe(CHUNK_KEYS / 2);
    for (let i = 0; i < 5000; i++) keys.add(`["k${i * 7919}"]`);
    expect(() => keys.encode()).toThrow(/table shop\.orders: the \d+ keys that hard-delete detection keeps take \d+ KiB in the position, over deletes\.maxStateBytes \(4 KiB\)/);
  });
});
