import { describe, expect, it } from "vitest";
import { FetchPositions } from "../../../src/runtime/pipeline/fetch-positions.js";

const P = "orders:0";

describe("where a sink task's next fetch of a partition must begin", () => {
  it("takes fetches that begin where the last one ended, or where the consumer was sent, or earlier", () => {
    const positions = new FetchPositions();
    expect(positions.check(P, 500n, undefined)).toBeUndefined(); // nothing known yet: a partition never sought
    positions.sought(P, 100n);
    expect(positions.check(P, 100n, 100n)).toBeUndefined();
    positions.passed(P, 149n); // records 100-148 and a commit marker at 149
    expect(positions.check(P, 150n, 149n)).toBeUndefined(); // the stored offset stops at the last record, the fetch after the marker
    expect(positions.check(P, 120n, 149n)).toBeUndefined(); // a replay: the records below the stored offset are skipped where they are written
  });

  it("sends a fetch that begins further on back to the stored offset, once; past it again, the records are gone", () => {
    const positions = new FetchPositions();
    positions.sought(P, 100n);
    positions.passed(P, 149n);
    expect(positions.check(P, 300n, 149n)).toEqual({ back: 149n });
    positions.sought(P, 149n);
    expect(positions.check(P, 300n, 149n)).toEqual({ gone: { from: 149n, oldest: 300n } });
  });

  it("sends a fetch back to where it should have begun when the target holds no offset, and heals when the next begins there", () => {
    const positions = new FetchPositions();
    positions.sought(P, 0n);
    expect(positions.check(P, 40n, undefined)).toEqual({ back: 0n });
    positions.sought(P, 0n);
    expect(positions.check(P, 0n, undefined)).toBeUndefined();
    positions.passed(P, 60n);
    expect(positions.check(P, 61n, 60n)).toBeUndefined();
    // a skip again later, at the same stored offset: sent back again, not taken for records gone
    positions.sought(P, 0n);
    expect(positions.check(P, 40n, undefined)).toEqual({ back: 0n });
  });

  it("keeps each partition apart", () => {
    const positions = new FetchPositions();
    positions.sought(P, 10n);
    positions.sought("orders:1", 500n);
    expect(positions.check("orders:1", 500n, undefined)).toBeUndefined();
    expect(positions.check(P, 500n, 10n)).toEqual({ back: 10n });
  });
});
