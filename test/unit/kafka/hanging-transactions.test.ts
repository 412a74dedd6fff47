import { describe, expect, it } from "vitest";
import { judge, type Listed, type OpenTransaction } from "../../../src/runtime/kafka/hanging-transactions.js";

const NOW = 1_800_000_000_000;
const MAX = 900_000;

const open = (producerId: bigint, lastWroteMsAgo: number): OpenTransaction => ({
  topic: "t",
  partition: 0,
  leader: 1,
  producerId,
  producerEpoch: 0,
  coordinatorEpoch: 0,
  startOffset: 5n,
  lastTimestamp: BigInt(NOW - lastWroteMsAgo),
});

describe("judging open transactions", () => {
  it("a transaction whose producer a coordinator lists as live is never hanging, however old", () => {
    expect(judge([open(1n, 10 * MAX)], new Map<bigint, Listed>([[1n, "live"]]), NOW, MAX)).toEqual([]);
  });

  it("a transaction whose producer id a coordinator lists in a state that is not live hangs at once (what a broker's crash left)", () => {
    const t = open(4n, 1_000);
    expect(judge([t], new Map<bigint, Listed>([[4n, "ended"]]), NOW, MAX)).toEqual([t]);
  });

  it("a transaction whose producer no coordinator lists (ACLs hide its id) hangs only once it is older than any transaction may last, with room for clocks", () => {
    const recent = open(7n, MAX);
    const old = open(8n, MAX + 61_000);
    expect(judge([recent, old], new Map(), NOW, MAX)).toEqual([old]);
  });
});
