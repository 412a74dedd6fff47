/**
 * The built-in connectors. The runtime never imports a connector; the entry points import this
 * file once, which registers every spec.
 */
import { registerConnector } from "./runtime/registry.js";
import { binlogSpec } from "./sources/binlog/index.js";
import { generatorSpec } from "./sources/generator/index.js";
import { outboxSpec } from "./sources/outbox/index.js";
import { pgcdcSpec } from "./sources/pgcdc/index.js";
import { querySpec } from "./sources/query/index.js";
import { bullmqSinkSpec } from "./sinks/bullmq/index.js";
import { sqlSinkSpec } from "./sinks/sql/index.js";

registerConnector(binlogSpec);
registerConnector(generatorSpec);
registerConnector(outboxSpec);
registerConnector(pgcdcSpec);
registerConnector(querySpec);
registerConnector(sqlSinkSpec);
registerConnector(bullmqSinkSpec);
