/**
 * The acceptance suite every source passes (Conduit's idea): the contract of src/runtime/connector.ts
 * checked against the real connector and its real database. A connector adds one file,
 * `test/acceptance/<type>.test.ts`, that calls `sourceAcceptanceSuite` with a harness.
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChangeRecord, Position, Source, SourceBatch, SourceContext } from "../../src/runtime/connector.js";
import type { ConnectorSpec } from "../../src/runtime/registry.js";
import { assertEncodable } from "./avro.js";

export interface SourceFixture {
  /** The connector's config as the loader would hand it over (parsed by its spec). */
  config: Record<string, unknown>;
  /** Makes `n` new changes appear at the source (rows inserted, events written). */
  produce(n: number): Promise<void>;
  /** Identity of a record, to detect repeats and gaps (e.g. the primary key). */
  identity: (record: ChangeRecord) => string;
  cleanup?(): Promise<void>;
}

export interface SourceHarness {
  /** e.g. "query on MariaDB" */
  name: string;
  spec: ConnectorSpec;
  /** A fresh fixture: its own tables, topics and connector name. */
  fixture(): Promise<SourceFixture>;
}

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

export function testContext(connector: string, signal: AbortSignal = new AbortController().signal): SourceContext {
  return {
    connector,
    task: { index: 0, count: 1 },
    log: log.child({ connector }),
    signal,
    metrics: { recordsOut() {}, recordsIn() {}, lagSeconds() {}, snapshotProgress() {}, observe() {} },
    schemas: { check: async () => undefined },
    limits: { maxBatchRecords: 500, maxBatchBytes: 4 * 1024 * 1024 },
  };
}

function open(harness: SourceHarness, fixture: SourceFixture, signal?: AbortSignal): Source {
  const spec = harness.spec;
  if (spec.kind !== "source") throw new Error(`${spec.type} is not a source`);
  return spec.create(fixture.config, testContext(String(fixture.config.name), signal));
}

/** Reads until `n` records arrived (acking each batch, as the runtime does after its commit). */
export async function readRecords(source: Source, n: number, timeoutMs = 30_000): Promise<{ records: ChangeRecord[]; position: Position }> {
  const records: ChangeRecord[] = [];
  let position: Position = null;
  const deadline = Date.now() + timeoutMs;
  while (records.length < n) {
    if (Date.now() > deadline) throw new Error(`only ${records.length} of ${n} records arrived in ${timeoutMs} ms`);
    const batch: SourceBatch | null = await source.read();
    if (batch === null) break;
    records.push(...batch.records);
    position = batch.position;
    await source.ack(batch.position);
  }
  return { records, position };
}

export function sourceAcceptanceSuite(harness: SourceHarness): void {
  describe(`source acceptance: ${harness.name}`, () => {
    let fixture: SourceFixture;
    beforeAll(async () => {
      fixture = await harness.fixture();
    });
    afterAll(async () => {
      await fixture?.cleanup?.();
    });

    it("reads what the source holds from no position, each record valid against its own schema", async () => {
      await fixture.produce(5);
      const source = open(harness, fixture);
      await source.open(null);
      const { records } = await readRecords(source, 5);
      await source.close();
      expect(records.length).toBeGreaterThanOrEqual(5);
      for (const r of records) {
        expect(typeof r.topic).toBe("string");
        await assertEncodable(r);
      }
    });

    it("resumes from a committed position without repeating or skipping a record", async () => {
      const first = open(harness, fixture);
      await first.open(null);
      const before = await readRecords(first, 5);
      await first.close();

      await fixture.produce(3);
      const second = open(harness, fixture);
      await second.open(before.position);
      const after = await readRecords(second, 3);
      await second.close();

      const seen = new Set(before.records.map(fixture.identity));
      const fresh = after.records.map(fixture.identity);
      expect(fresh.filter((id) => seen.has(id))).toEqual([]);
      expect(new Set(fresh).size).toBe(fresh.length);
      expect(fresh.length).toBeGreaterThanOrEqual(3);
    });

    it("returns from read() promptly once its signal aborts", async () => {
      const ac = new AbortController();
      const source = open(harness, fixture, ac.signal);
      await source.open(null);
      await readRecords(source, 1).catch(() => undefined);
      const pending = source.read();
      const t0 = Date.now();
      ac.abort();
      await pending;
      expect(Date.now() - t0).toBeLessThan(5_000);
      await source.close();
    });

    it("can be closed twice, and closed without having been opened", async () => {
      const source = open(harness, fixture);
      await source.close();
      const opened = open(harness, fixture);
      await opened.open(null);
      await opened.close();
      await opened.close();
    });
  });
}
