import { describe, expect, it } from "vitest";
import "../../../src/connectors.js";
import { parseConfig } from "../../../src/runtime/config/load.js";
import { diffConfigs, isEmptyDiff } from "../../../src/runtime/reload.js";

const config = (connectors: string, extra = "") =>
  parseConfig(`kafka:\n  brokers: [localhost:9092]\n${extra}connectors:\n${connectors}`, "connectors.yaml");

const gen = (name: string, more = "") => `  - { name: ${name}, type: generator, topic: ${name}.t${more} }\n`;

describe("what a reload changes", () => {
  it("finds added, removed and changed connectors by their parsed config", () => {
    const diff = diffConfigs(config(gen("kept") + gen("changed") + gen("removed")), config(gen("kept") + gen("changed", ", ratePerSecond: 7") + gen("added")));
    expect(diff.added.map((c) => c.name)).toEqual(["added"]);
    expect(diff.removed).toEqual(["removed"]);
    expect(diff.changed.map((c) => c.name)).toEqual(["changed"]);
    expect(diff.rootChanged).toEqual([]);
  });

  it("sees no change in a reordered, reformatted file or a default written out", () => {
    const before = config(gen("a") + gen("b"));
    const after = config(`  - name: b\n    topic: b.t\n    type: generator\n  - { name: a, type: generator, topic: a.t, ratePerSecond: 100 }\n`);
    expect(isEmptyDiff(diffConfigs(before, after))).toBe(true);
  });

  it("counts a disabled connector as absent", () => {
    const diff = diffConfigs(config(gen("a") + gen("b")), config(gen("a", ", enabled: false") + gen("b")));
    expect(diff.removed).toEqual(["a"]);
    expect(diffConfigs(config(gen("a", ", enabled: false")), config(gen("a"))).added.map((c) => c.name)).toEqual(["a"]);
  });

  it("names the top-level blocks that changed, which take effect at the next start", () => {
    const diff = diffConfigs(config(gen("a")), config(gen("a"), "shutdown: { gracePeriodMs: 3000 }\n"));
    expect(diff.rootChanged).toEqual(["shutdown"]);
  });
});
