import { z } from "zod";
import { int } from "../../runtime/config/fields.js";
import { connectorSchema } from "../../runtime/config/load.js";

export const generatorConfig = connectorSchema({
  /** Where the records go. */
  topic: z.string().min(1),
  /** Records per second; 0 means as fast as Kafka takes them. */
  ratePerSecond: int(0).default(100),
  /** Stop after this many records in total (across restarts); unset runs forever. */
  count: int(1).optional(),
});

export type GeneratorConfig = z.infer<typeof generatorConfig>;
