import type { ChangeRecord } from "../../src/runtime/connector.js";
import { generatorSpec } from "../../src/sources/generator/index.js";
import { uniqueName } from "../harness/index.js";
import { sourceAcceptanceSuite } from "./source-suite.js";

sourceAcceptanceSuite({
  name: "generator",
  spec: generatorSpec,
  fixture: async () => {
    const name = uniqueName("gen");
    return {
      config: generatorSpec.config.parse({ name, type: "generator", topic: `${name}.events`, ratePerSecond: 200 }),
      // the generator makes its own records at its rate
      produce: async () => undefined,
      identity: (r: ChangeRecord) => String((r.key as { id: number }).id),
    };
  },
});
