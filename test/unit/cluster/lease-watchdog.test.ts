import { describe, expect, it } from "vitest";
import { LeaseWatchdog, leaseTimeout } from "../../../src/runtime/cluster/lease-watchdog.js";

function watchdog(timeoutMs: number) {
  let now = 0;
  const expired: [string, number][] = [];
  const dog = new LeaseWatchdog(timeoutMs, (id, silent) => expired.push([id, silent]), () => now);
  return { dog, expired, advance: (ms: number) => (now += ms) };
}

describe("lease watchdog", () => {
  it("gives up a lock unrenewed for longer than the timeout, once", () => {
    const { dog, expired, advance } = watchdog(1500);
    dog.track("connector-a");
    advance(1500);
    dog.check();
    expect(expired).toEqual([]);
    advance(1);
    dog.check();
    dog.check();
    expect(expired).toEqual([["connector-a", 1501]]);
  });

  it("counts from the last renewal of each lock", () => {
    const { dog, expired, advance } = watchdog(1000);
    dog.track("a");
    dog.track("b");
    advance(800);
    dog.renewed(["a"]);
    advance(300);
    dog.check();
    expect(expired.map(([id]) => id)).toEqual(["b"]);
  });

  it("ignores renewals of locks it does not track, and forgets untracked ones", () => {
    const { dog, expired, advance } = watchdog(100);
    dog.renewed(["other"]);
    dog.track("a");
    dog.untrack("a");
    advance(1000);
    dog.check();
    expect(expired).toEqual([]);
  });

  it("gives up at three quarters of the lock duration, leaving a quarter to stop before the lock lapses", () => {
    expect(leaseTimeout(2000)).toBe(1500);
    expect(leaseTimeout(5000)).toBe(3750);
  });
});
