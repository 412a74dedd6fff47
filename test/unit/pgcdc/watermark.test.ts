import { describe, expect, it } from "vitest";
import { parseXidSnapshot, visibleIn } from "../../../src/sources/pgcdc/incremental-snapshot.js";

describe("which committed transactions an incremental chunk's snapshot saw", () => {
  it("reads pg_current_snapshot()'s text as 32-bit xids, as pgoutput gives them", () => {
    expect(parseXidSnapshot("726:730:727,729")).toEqual({ xmin: 726, xmax: 730, running: [727, 729] });
    expect(parseXidSnapshot("726:726:")).toEqual({ xmin: 726, xmax: 726, running: [] });
    // epoch 1: the low 32 bits
    expect(parseXidSnapshot(`${2 ** 32 + 5}:${2 ** 32 + 9}:${2 ** 32 + 7}`)).toEqual({ xmin: 5, xmax: 9, running: [7] });
  });

  it("sees what committed before xmin and what was not running below xmax; nothing from xmax on", () => {
    const s = parseXidSnapshot("726:730:727,729");
    expect([725, 726, 727, 728, 729, 730, 731].map((x) => visibleIn(s, x))).toEqual([true, true, false, true, false, false, false]);
  });

  it("compares across xid wraparound", () => {
    const s = { xmin: 2 ** 32 - 2, xmax: 3, running: [2 ** 32 - 1] };
    expect([2 ** 32 - 3, 2 ** 32 - 2, 2 ** 32 - 1, 0, 2, 3, 4].map((x) => visibleIn(s, x))).toEqual([true, true, false, true, true, false, false]);
  });
});
