import type { SourceSpec } from "../../runtime/registry.js";
import { generatorConfig, type GeneratorConfig } from "./config.js";
import { GeneratorSource } from "./generator-source.js";

export const generatorSpec: SourceSpec<GeneratorConfig> = {
  kind: "source",
  type: "generator",
  summary: "Synthetic events at a steady rate, for demos and smoke tests",
  config: generatorConfig,
  create: (config, ctx) => new GeneratorSource(config, ctx),
};
