import { describe, expect, it } from "vitest";
import { fairShare, shouldPass, surplus, type MemberLoad } from "../../../src/runtime/cluster/share.js";

const load = (id: string, running: number, capacity = 100): MemberLoad => ({ id, running, capacity });

describe("spreading connectors over workers", () => {
  it("gives each worker the connectors divided by the workers, rounded up", () => {
    expect(fairShare(6, 3)).toBe(2);
    expect(fairShare(7, 3)).toBe(3);
    expect(fairShare(5, 0)).toBe(5);
  });

  it("passes on a connector while another worker with room runs fewer", () => {
    const me = load("a", 2);
    expect(shouldPass(me, [me, load("b", 1)])).toBe(true);
    expect(shouldPass(me, [me, load("b", 2)])).toBe(false);
    // fewer, but full: it could not take it
    expect(shouldPass(me, [me, load("b", 1, 1)])).toBe(false);
    // alone, or the least busy: it keeps it
    expect(shouldPass(me, [me])).toBe(false);
    expect(shouldPass(load("a", 0), [load("a", 0), load("b", 0)])).toBe(false);
  });

  it("hands back what it runs above its share when a worker joins, as far as the others have room", () => {
    // six on one worker, two more join: four go
    expect(surplus(load("a", 6), [load("a", 6), load("b", 0), load("c", 0)], 6)).toBe(4);
    // 7 on 3 workers: 3, 2, 2 is as even as it gets
    expect(surplus(load("a", 3), [load("a", 3), load("b", 2), load("c", 2)], 7)).toBe(0);
    // the others are full: nothing moves, nothing is left without a worker
    expect(surplus(load("a", 5), [load("a", 5), load("b", 1, 1)], 6)).toBe(0);
    expect(surplus(load("a", 5), [load("a", 5), load("b", 1, 2)], 6)).toBe(1);
  });
});
