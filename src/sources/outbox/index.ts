import type { SourceSpec } from "../../runtime/registry.js";
import { outboxConfig, type OutboxConfig } from "./config.js";
import { outboxPreflight } from "./preflight.js";
import { OutboxRelay } from "./relay.js";

export const outboxSpec: SourceSpec<OutboxConfig> = {
  kind: "source",
  type: "outbox",
  summary: "Transactional outbox relay (PostgreSQL, MySQL/MariaDB): application events in commit order, exactly once, schema-checked",
  config: outboxConfig,
  preflight: outboxPreflight,
  create: (config, ctx) => new OutboxRelay(config, ctx),
};
