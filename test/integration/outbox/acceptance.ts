import type { ChangeRecord } from "../../../src/runtime/connector.js";
import type { SourceHarness } from "../../acceptance/source-suite.js";
import type { ConnectorSpec } from "../../../src/runtime/registry.js";
import { orderPlaced, outboxFixture, type Kind } from "./fixtures.js";

/**
 * The shared source suite on an outbox. A relay consumes what it publishes (the rows are deleted
 * after each acked batch), while the suite opens fresh readers from no position and expects rows
 * to be there: so the outbox starts with a supply of events and batches are small.
 */
export function outboxAcceptance(kind: Kind, spec: ConnectorSpec): SourceHarness {
  return {
    name: `outbox on ${kind === "postgres" ? "PostgreSQL" : "MariaDB"}`,
    spec,
    fixture: async () => {
      const fixture = await outboxFixture(kind, { batch: { maxRecords: 5 } });
      let next = 0;
      const produce = async (n: number) => {
        const app = await fixture.app();
        try {
          for (let i = 0; i < n; i++) await app.write(orderPlaced(1 + (next % 7), ++next));
        } finally {
          await app.close();
        }
      };
      await produce(20);
      return {
        config: fixture.config(),
        produce,
        identity: (r: ChangeRecord) => String((r.value as { seq: number }).seq),
        cleanup: () => fixture.cleanup(),
      };
    },
  };
}
