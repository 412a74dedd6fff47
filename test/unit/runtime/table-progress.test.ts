import pino from "pino";
import { describe, expect, it } from "vitest";
import type { SnapshotDetail, SourceContext } from "../../../src/runtime/connector.js";
import { TableProgress } from "../../../src/runtime/db/table-progress.js";

interface Reported {
  done: number;
  estimated: number;
  detail: SnapshotDetail | undefined;
}

function context(reports: Reported[]): SourceContext {
  return {
    connector: "c",
    task: { index: 0, count: 1 },
    log: pino({ level: "silent" }),
    signal: new AbortController().signal,
    metrics: {
      recordsOut() {},
      recordsIn() {},
      lagSeconds() {},
      snapshotProgress: (_table, done, estimated, detail) => reports.push({ done, estimated, detail }),
      observe() {},
    },
    schemas: { check: async () => undefined },
    limits: { maxBatchRecords: 500, maxBatchBytes: 1 << 20 },
  };
}

const rows = (n: number) => Array.from({ length: n }, () => ({}));

describe("TableProgress", () => {
  it("refines the server's guess from the key range read so far, and ends at the count read", () => {
    const reports: Reported[] = [];
    // the server guessed 300 rows; keys run 1…1000 with every other one gone
    const p = new TableProgress(context(reports), "s.t", "initial", { rows: 300, rowBytes: 40, keyRange: { min: 1, max: 1000 } }, null);
    expect(reports[0]).toEqual({ done: 0, estimated: 300, detail: { kind: "initial", chunk: null } });
    p.read({ rows: rows(100), lastKey: [200], last: false });
    expect(p.estimatedRows).toBe(500);
    expect(reports.at(-1)).toEqual({ done: 100, estimated: 500, detail: { kind: "initial", chunk: [200], finished: false } });
    p.read({ rows: rows(50), lastKey: ["400"], last: true });
    expect(reports.at(-1)).toEqual({ done: 150, estimated: 150, detail: { kind: "initial", chunk: ["400"], finished: true } });
  });

  it("measures a resumed run from the key it resumed after, and keeps the guess without an integer key", () => {
    const resumed: Reported[] = [];
    const p = new TableProgress(context(resumed), "s.t", "incremental", { rows: 1000, rowBytes: 0, keyRange: { min: 1, max: 1000 } }, ["600"]);
    // the 600 keys behind it hold about 600 of the guessed 1000 rows: the bar resumes at 60 %
    expect(resumed[0]).toMatchObject({ done: 600, estimated: 1000 });
    p.read({ rows: rows(100), lastKey: ["700"], last: false });
    expect(resumed.at(-1)).toMatchObject({ done: 700, estimated: 1000, detail: { kind: "incremental" } });
    expect(p.summary(false)).toMatchObject({ rows: 700, estimatedRows: 1000 });
    p.read({ rows: rows(150), lastKey: ["1000"], last: true });
    expect(resumed.at(-1)).toMatchObject({ done: 850, estimated: 850 });

    const keyless: Reported[] = [];
    const q = new TableProgress(context(keyless), "s.t", "initial", { rows: 1000, rowBytes: 0 }, null);
    q.read({ rows: rows(1200), lastKey: [1200], last: false });
    expect(keyless.at(-1)).toMatchObject({ done: 1200, estimated: 1200 });
    expect(q.summary(false)).toMatchObject({ table: "s.t", rows: 1200, estimatedRows: 1200 });
  });
});
