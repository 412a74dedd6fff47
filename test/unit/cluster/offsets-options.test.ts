import { describe, expect, it } from "vitest";
import { changeFromOptions } from "../../../src/commands/offsets.js";
import { offsetChangeSchema } from "../../../src/runtime/offsets/connector-offsets.js";

const base = { config: "c.yaml", connector: "x" };

describe("liberator offsets set: from options to one change", () => {
  it("turns each way of saying where into its change", () => {
    expect(changeFromOptions({ ...base, position: '{"file":"mysql-bin.000003","pos":4,"phase":"stream"}' })).toEqual({
      position: { file: "mysql-bin.000003", pos: 4, phase: "stream" },
    });
    expect(changeFromOptions({ ...base, toEarliest: true })).toEqual({ to: "earliest" });
    expect(changeFromOptions({ ...base, toLatest: true })).toEqual({ to: "latest" });
    expect(changeFromOptions({ ...base, toTime: "2024-05-01T12:00:00Z" })).toEqual({ toTime: "2024-05-01T12:00:00Z" });
    expect(changeFromOptions({ ...base, partition: "2", offset: "42", topic: "t" })).toEqual({ offsets: [{ topic: "t", partition: 2, offset: "42" }] });
  });

  it("refuses two ways at once, none, an offset without its partition, a time without its zone", () => {
    expect(() => changeFromOptions({ ...base, toEarliest: true, toLatest: true })).toThrow(/exactly one of/);
    expect(() => changeFromOptions(base)).toThrow(/exactly one of/);
    expect(() => changeFromOptions({ ...base, offset: "3" })).toThrow(/--offset needs --partition/);
    expect(() => changeFromOptions({ ...base, toTime: "yesterday" })).toThrow(/toTime/);
    expect(() => changeFromOptions({ ...base, position: "null" })).toThrow(/use reset/);
  });

  it("takes the same changes as JSON bodies of the admin API, offsets as numbers or strings", () => {
    expect(offsetChangeSchema.parse({ offsets: [{ partition: 0, offset: 7 }] })).toEqual({ offsets: [{ partition: 0, offset: "7" }] });
    expect(offsetChangeSchema.safeParse({ to: "middle" }).success).toBe(false);
    expect(offsetChangeSchema.safeParse({ reset: true, to: "earliest" }).success).toBe(false);
  });
});
