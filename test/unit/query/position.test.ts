import { describe, expect, it } from "vitest";
import type { Position } from "../../../src/runtime/connector.js";
import { mergePositions } from "../../../src/sources/query/position.js";

const position = (streams: Record<string, { id: number }>): Position => ({ streams });

describe("query positions of several tasks", () => {
  it("takes each table's cursor from the newest position that holds it", () => {
    // tasks: 1 wrote a, b, c; then two tasks moved a and c on (task 0) and b (task 1)
    const stored = [position({ a: { id: 5 }, b: { id: 5 }, c: { id: 5 } }), position({ a: { id: 9 }, c: { id: 7 } }), position({ b: { id: 8 } })];
    expect(mergePositions(stored)).toEqual({ streams: { a: { id: 9 }, b: { id: 8 }, c: { id: 7 } } });
  });

  it("keeps a table whose owner never wrote again where it was", () => {
    expect(mergePositions([position({ a: { id: 5 }, b: { id: 3 } }), position({ a: { id: 6 } })])).toEqual({ streams: { a: { id: 6 }, b: { id: 3 } } });
  });
});
