import { describe, expect, it } from "vitest";
import { renderStatus } from "../../../src/commands/status-view.js";
import type { ConnectorView } from "../../../src/runtime/control.js";

const view = (index: number, tables: string[]): ConnectorView =>
  ({ name: "orders", type: "query", kind: "source", state: "running", records: 10, rowsPerSecond: 2, worker: `w${index + 1}`, task: { index, count: 2 }, details: { tables } }) as unknown as ConnectorView;

describe("liberator status", () => {
  it("prints the tables each task of a query source reads", () => {
    const out = renderStatus({ at: "2026-12-05T20:00:00.000Z", connectors: [view(0, ["shop.a", "shop.c"]), view(1, [])] }, { unicode: false });
    expect(out).toContain("orders task 0/2  query source  RUNNING");
    expect(out).toContain("on w1\n  tables: shop.a, shop.c\n");
    expect(out).toContain("on w2\n  tables: none\n");
  });
});
