import { describe, expect, it } from "vitest";
import { SafeHorizon, type Probe } from "../../../src/sources/query/horizon.js";

const S = 1_000_000; // a second in microseconds
const probe = (now: number, oldest: number | null = null, oldestWriter: number | null = oldest, frozenBy?: string): Probe => ({
  now: now * S,
  oldest: oldest === null ? null : oldest * S,
  oldestWriter: oldestWriter === null ? null : oldestWriter * S,
  ...(frozenBy ? { frozenBy } : {}),
});

describe("the safe horizon", () => {
  it("lets timestamps through up to the oldest open transaction's start, or now, minus delayMs", () => {
    const h = new SafeHorizon(0.5 * S);
    expect(h.timeBound(), "nothing is known before the first probe").toBeNull();
    h.update(probe(100), new Map());
    expect(h.timeBound()).toBe(99.5 * S);
    h.update(probe(101, 90), new Map());
    expect(h.timeBound(), "a transaction open since 90 may still commit rows stamped 90").toBe(89.5 * S);
  });

  it("lets nothing through while a prepared transaction of unknown start may commit", () => {
    const h = new SafeHorizon(0);
    h.update(probe(100, null, null, "prepared transaction(s) tx1"), new Map([["t", 5]]));
    expect(h.timeBound()).toBeNull();
    expect(h.idBound("t")).toBeNull();
  });

  it("lets ids through up to the newest sample taken before every open writer began and at least delayMs ago", () => {
    const h = new SafeHorizon(1 * S);
    h.update(probe(10), new Map([["t", 100]]));
    expect(h.idBound("t"), "the only sample is not delayMs old yet").toBeNull();
    h.update(probe(11), new Map([["t", 110]]));
    expect(h.idBound("t")).toBe(100);
    expect(h.idBoundAt("t")).toBe(10 * S);
    // a writer that began at 11.5 may hold ids up to anything after the sample at 11
    h.update(probe(12, 11.5), new Map([["t", 120]]));
    expect(h.idBound("t")).toBe(110);
    h.update(probe(20, 11.5), new Map([["t", 200]]));
    expect(h.idBound("t"), "held at the sample before the writer began").toBe(110);
    // it commits: the newest sample old enough
    h.update(probe(21), new Map([["t", 210]]));
    expect(h.idBound("t")).toBe(200);
  });

  it("counts only writers for ids, every open transaction for timestamps (PostgreSQL's now() is its transaction's start)", () => {
    const h = new SafeHorizon(0);
    h.update(probe(10), new Map([["t", 1]]));
    h.update(probe(20, 5, null), new Map([["t", 2]]));
    expect(h.timeBound()).toBe(5 * S);
    expect(h.idBound("t")).toBe(2);
  });

  it("keeps a safe choice when it thins the samples of a long-held horizon", () => {
    const h = new SafeHorizon(0);
    h.update(probe(1), new Map([["t", 1]]));
    for (let i = 2; i < 2000; i++) h.update(probe(i, 1.5), new Map([["t", i]]));
    expect(h.idBound("t"), "the sample before the writer began survives").toBe(1);
    h.update(probe(3000), new Map([["t", 3000]]));
    const bound = h.idBound("t") as number;
    expect(bound).toBe(3000);
  });

  it("keeps streams apart and ignores a stream without a visible id", () => {
    const h = new SafeHorizon(0);
    h.update(probe(1), new Map<string, number | null>([["a", 5], ["b", null]]));
    expect(h.idBound("a")).toBe(5);
    expect(h.idBound("b")).toBeNull();
  });
});
