import { describe, expect, it } from "vitest";
import { ProgressBook, Rate, SchemaLedger } from "../../../src/runtime/progress.js";

/** A clock the test moves. */
function clock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("Rate", () => {
  it("is unknown from one sample and measures the window's slope from two on", () => {
    const rate = new Rate(10_000);
    rate.add(0, 0);
    expect(rate.perSecond()).toBeNull();
    rate.add(1000, 500);
    expect(rate.perSecond()).toBe(500);
  });

  it("follows a change of pace once the old samples leave the window", () => {
    const rate = new Rate(10_000);
    for (let s = 0; s <= 20; s++) rate.add(s * 1000, s * 100);
    expect(rate.perSecond()).toBeCloseTo(100);
    for (let s = 21; s <= 40; s++) rate.add(s * 1000, 2000 + (s - 20) * 400);
    expect(rate.perSecond()).toBeCloseTo(400);
  });

  it("falls when nothing more comes, measured up to now", () => {
    const rate = new Rate(10_000);
    rate.add(0, 0);
    rate.add(1000, 1000);
    expect(rate.perSecond(1000)).toBe(1000);
    expect(rate.perSecond(4000)).toBe(250);
  });
});

describe("ProgressBook", () => {
  it("gives a snapshot table's rate and an ETA that is the rows left over that rate, and 0 once finished", () => {
    const c = clock();
    const book = new ProgressBook(c.now);
    book.snapshot("shop.orders", 0, 10_000, { kind: "initial" });
    for (let done = 1000; done <= 4000; done += 1000) {
      c.advance(2000);
      book.snapshot("shop.orders", done, 10_000, { chunk: [done] });
    }
    const running = book.view([]).snapshot!["shop.orders"]!;
    expect(running).toMatchObject({ kind: "initial", done: 4000, estimated: 10_000, rowsPerSecond: 500, etaSeconds: 12, chunk: [4000], finishedAt: null });

    c.advance(2000);
    book.snapshot("shop.orders", 9_500, 10_000, { finished: true });
    const done = book.view([]).snapshot!["shop.orders"]!;
    // the table's real count replaces the estimate
    expect(done).toMatchObject({ done: 9_500, estimated: 9_500, etaSeconds: 0 });
    expect(done.finishedAt).not.toBeNull();
  });

  it("never shows fewer rows estimated than done, and starts a new run when the table is copied again", () => {
    const c = clock();
    const book = new ProgressBook(c.now);
    book.snapshot("t", 500, 100);
    expect(book.view([]).snapshot!.t!.estimated).toBe(500);
    c.advance(1000);
    book.snapshot("t", 500, 500, { finished: true });
    c.advance(1000);
    book.snapshot("t", 0, 500, { kind: "incremental" });
    const again = book.view([]).snapshot!.t!;
    expect(again).toMatchObject({ kind: "incremental", done: 0, finishedAt: null, etaSeconds: null });
  });

  it("keeps what a streaming source last told of its distance from the head", () => {
    const c = clock();
    const book = new ProgressBook(c.now);
    book.lag(3, { lastEventAt: c.now() - 3000 });
    book.lag(2, { bytesBehind: 4096 });
    const view = book.view([]);
    expect(view.lag).toEqual({ seconds: 2 });
    expect(view.stream).toEqual({ secondsBehind: 2, bytesBehind: 4096, retainedBytes: null, lastEventAt: new Date(c.now() - 3000).toISOString() });
  });

  it("takes a slot's bytes without a time figure, and a later time figure without bytes", () => {
    const c = clock();
    const book = new ProgressBook(c.now);
    book.lag(4, { lastEventAt: c.now() });
    book.lag(null, { bytesBehind: 100, retainedBytes: 8192 });
    expect(book.view([]).stream).toMatchObject({ secondsBehind: 4, bytesBehind: 100, retainedBytes: 8192 });
    book.lag(0);
    expect(book.view([]).stream).toMatchObject({ secondsBehind: 0, bytesBehind: 100, retainedBytes: 8192 });
    expect(book.view([]).lag).toEqual({ seconds: 0 });
  });

  it("measures rows per second of what it wrote, and of a sink's partitions the lag", () => {
    const c = clock();
    const book = new ProgressBook(c.now);
    for (let i = 0; i < 5; i++) {
      c.advance(1000);
      book.counted("shop.orders", 200);
    }
    book.consumerLag("shop.orders", 0, 12);
    const view = book.view([]);
    expect(view.rowsPerSecond).toBe(200);
    expect(view.lag).toEqual({ partitions: [{ topic: "shop.orders", partition: 0, lag: 12 }] });
  });

  it("shows the schemas of the subjects of its own topics only", () => {
    const c = clock();
    const ledger = new SchemaLedger(c.now);
    ledger.add("shop.orders-value", 1, true);
    ledger.add("shop.orders-key", 2, true);
    ledger.add("other.topic-value", 3, true);
    c.advance(1000);
    ledger.add("shop.orders-value", 4, true);
    const book = new ProgressBook(c.now);
    book.counted("shop.orders", 1);
    const schemas = book.view(ledger.list()).schemas;
    expect(schemas.map((s) => [s.subject, s.id, s.previousId])).toEqual([
      ["shop.orders-value", 4, 1],
      ["shop.orders-key", 2, null],
      ["shop.orders-value", 1, null],
    ]);
  });
});
