/**
 * The acceptance suite every sink passes: the contract of `Sink` in src/runtime/connector.ts,
 * checked against the real connector and its real target. A sink adds one file,
 * `test/acceptance/<type>.test.ts`, that calls `sinkAcceptanceSuite` with a harness.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sink, SinkRecord } from "../../src/runtime/connector.js";
import { DataError, FencedError } from "../../src/runtime/errors.js";
import type { ConnectorSpec } from "../../src/runtime/registry.js";
import { sinkContext } from "../integration/sinks/support.js";

export interface SinkFixture {
  /** The connector's config as the loader would hand it over (parsed by its spec). */
  config: Record<string, unknown>;
  topic: string;
  /** `n` distinct records at offsets from, from+1, … of partition 0, as the pipeline decodes them. */
  records(from: number, n: number): SinkRecord[];
  /** A record the target refuses, at `offset`; absent when the sink refuses nothing it can decode. */
  poison?(offset: number): SinkRecord;
  /** Identities of what the target holds (rows, jobs), one per stored item, duplicates included. */
  stored(): Promise<string[]>;
  cleanup?(): Promise<void>;
}

export interface SinkHarness {
  /** e.g. "sql into PostgreSQL" */
  name: string;
  spec: ConnectorSpec;
  /** A fresh fixture: its own tables or queue, topic and connector name. */
  fixture(): Promise<SinkFixture>;
}

function create(harness: SinkHarness, fixture: SinkFixture): Sink {
  const spec = harness.spec;
  if (spec.kind !== "sink") throw new Error(`${spec.type} is not a sink`);
  return spec.create(fixture.config, sinkContext(String(fixture.config.name)));
}

const next = (topic: string, offset: number) => [{ topic, partition: 0, offset: String(offset) }];

export function sinkAcceptanceSuite(harness: SinkHarness): void {
  describe(`sink acceptance: ${harness.name}`, () => {
    let fixture: SinkFixture;
    const opened: Sink[] = [];
    const open = async () => {
      const sink = create(harness, fixture);
      opened.push(sink);
      await sink.open();
      // the task that opens last claims the partition: the one before it is fenced from it
      await sink.claim([{ topic: fixture.topic, partition: 0 }]);
      return sink;
    };
    beforeAll(async () => {
      fixture = await harness.fixture();
    });
    afterAll(async () => {
      for (const s of opened) await s.close();
      await fixture?.cleanup?.();
    });

    it("writes a batch together with its next offsets, and offsets() reads them back", async () => {
      const sink = await open();
      expect(await sink.offsets([fixture.topic])).toEqual([]);
      await sink.write({ records: fixture.records(0, 10), offsets: next(fixture.topic, 10) });
      expect(await fixture.stored()).toHaveLength(10);
      expect(await sink.offsets([fixture.topic])).toEqual(next(fixture.topic, 10));
      await sink.close();
    });

    it("writes nothing of a batch it refuses: neither rows nor offsets move", async (ctx) => {
      if (!fixture.poison) return ctx.skip();
      const sink = await open();
      const before = await fixture.stored();
      const [offset] = await sink.offsets([fixture.topic]);
      const from = Number(offset!.offset);
      const batch = [...fixture.records(from, 3), fixture.poison(from + 3), ...fixture.records(from + 4, 2)];
      await expect(sink.write({ records: batch, offsets: next(fixture.topic, from + 6) })).rejects.toBeInstanceOf(DataError);
      expect((await fixture.stored()).sort()).toEqual(before.sort());
      expect(await sink.offsets([fixture.topic])).toEqual([offset]);
      // and the sink goes on with the next batch
      await sink.write({ records: fixture.records(from, 3), offsets: next(fixture.topic, from + 3) });
      expect(await fixture.stored()).toHaveLength(before.length + 3);
      await sink.close();
    });

    it("resumes at the stored offsets after a crash, and replaying from there leaves every record once", async () => {
      const first = await open();
      const [offset] = await first.offsets([fixture.topic]);
      const from = Number(offset!.offset);
      await first.write({ records: fixture.records(from, 10), offsets: next(fixture.topic, from + 10) });
      // the process dies here: the batch after it was never committed

      const second = await open();
      expect(await second.offsets([fixture.topic])).toEqual(next(fixture.topic, from + 10));
      await second.write({ records: fixture.records(from + 10, 10), offsets: next(fixture.topic, from + 20) });
      const ids = await fixture.stored();
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(from + 20);
      await second.close();
    });

    it("fences the first instance when a second one opens: its write fails and stores nothing", async () => {
      const first = await open();
      const [offset] = await first.offsets([fixture.topic]);
      const from = Number(offset!.offset);
      const second = await open();
      const before = await fixture.stored();
      await expect(first.write({ records: fixture.records(from, 5), offsets: next(fixture.topic, from + 5) })).rejects.toBeInstanceOf(FencedError);
      expect(await second.offsets([fixture.topic])).toEqual([offset]);
      await second.write({ records: fixture.records(from, 5), offsets: next(fixture.topic, from + 5) });
      const ids = await fixture.stored();
      expect(ids.length).toBe(before.length + 5);
      expect(new Set(ids).size).toBe(ids.length);
      await first.close();
      await second.close();
    });

    it("fences per partition: a task that lost one partition to another fails on it and goes on writing the one it kept", async () => {
      const first = await open();
      const kept = { topic: fixture.topic, partition: 1 };
      await first.claim([kept]);
      const [offset] = await first.offsets([fixture.topic]);
      const from = Number(offset!.offset);
      // another task claims partition 0 only
      const second = create(harness, fixture);
      opened.push(second);
      await second.open();
      await second.claim([{ topic: fixture.topic, partition: 0 }]);
      await expect(first.write({ records: fixture.records(from, 5), offsets: next(fixture.topic, from + 5) })).rejects.toBeInstanceOf(FencedError);
      await first.write({ records: [], offsets: [{ ...kept, offset: "7" }] });
      expect((await second.offsets([fixture.topic])).sort((a, b) => a.partition - b.partition)).toEqual([offset, { ...kept, offset: "7" }]);
      await second.close();
      await first.close();
    });

    it("can be closed twice, and closed without having been opened", async () => {
      const never = create(harness, fixture);
      await never.close();
      const sink = await open();
      await sink.close();
      await sink.close();
    });
  });
}
