/**
 * The built-in connectors. The runtime never imports a connector; the entry points import this
 * file once, which registers every spec.
 */
import { registerConnector } from "./runtime/registry.js";
import { generatorSpec } from "./sources/generator/index.js";

registerConnector(generatorSpec);
