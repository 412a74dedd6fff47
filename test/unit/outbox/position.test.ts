import { describe, expect, it } from "vitest";
import type { Json } from "../../../src/runtime/connector.js";
import { idsOf, parsePosition, toRuns } from "../../../src/sources/outbox/position.js";

describe("outbox positions", () => {
  it("name the published ids as exact runs, never a run over a hole", () => {
    const ids = [1, 2, 3, 7, 9, 10, 11];
    expect(toRuns(ids)).toEqual([[1, 3], [7, 7], [9, 11]]);
    expect(idsOf(toRuns(ids))).toEqual(ids);
    expect(toRuns([])).toEqual([]);
  });

  it("read back what they wrote, and refuse anything else with the fix", () => {
    expect(parsePosition(null)).toEqual({ published: [] });
    expect(parsePosition({ published: [[4, 9]] })).toEqual({ published: [[4, 9]] });
    for (const bad of [{ seq: 3 }, { published: [[9, 4]] }, { published: [[1.5, 2]] }, [1, 2]] as Json[]) {
      expect(() => parsePosition(bad)).toThrow(expect.objectContaining({ code: "POSITION_INVALID", fix: expect.stringContaining("liberator offsets reset") }));
    }
  });
});
