/** What `liberator validate` says about an outbox: each check, and the fix when it fails. */
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { outboxPreflight } from "../../../src/sources/outbox/preflight.js";
import { outboxSuite } from "./fixtures.js";

const ctx = { connector: "o", log: pino({ level: "silent" }) };

describe("outbox preflight", () => {
  const suite = outboxSuite("postgres");

  it("passes a table made by outbox init, and names what is missing with the fix", async () => {
    const { fixture } = suite;
    const ok = await outboxPreflight(fixture.config(), ctx);
    expect(ok.map((c) => [c.check, c.ok])).toEqual([
      ["connect", true],
      ["columns", true],
      ["privileges", true],
      ["notify", true],
      ["event OrderPlaced", true],
    ]);

    const renamed = await outboxPreflight(fixture.config({ columns: { aggregateId: "aggregate_key" }, topic: "{tenant}.{aggregate_type}" }), ctx);
    expect(renamed.find((c) => c.check === "columns")).toMatchObject({ ok: false, message: expect.stringContaining("has no column aggregate_key, tenant") });

    const app = await fixture.app();
    await app.exec("DROP TRIGGER liberator_notify ON outbox");
    await app.close();
    expect((await outboxPreflight(fixture.config(), ctx)).find((c) => c.check === "notify")).toMatchObject({
      ok: false,
      severity: "warning",
      fix: expect.stringContaining("liberator outbox init"),
    });

    const missing = await outboxPreflight(fixture.config({ table: "events", events: { Bad: { schema: '{"type": "record"}' } } }), ctx);
    expect(missing.map((c) => [c.check, c.ok])).toEqual([
      ["connect", true],
      ["table", false],
      ["event Bad", false],
    ]);
    expect(missing[1]).toMatchObject({ message: expect.stringContaining("public.events does not exist"), fix: expect.stringContaining("outbox init") });
  });
});
