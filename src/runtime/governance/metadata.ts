/**
 * A stream's metadata from the `streams:` block: defaults, then the connector's, then the topic
 * patterns in the order written, then the exact topic. Scalars: the most specific level wins. PII
 * and financial fields add up across levels; a field's handling comes from the most specific
 * level that names it with one, else from the most specific `piiHandling`.
 */
import type { PiiHandling, StreamMetadataConfig, StreamsConfig } from "./config.js";

export interface Deprecation {
  replacement?: string;
  /** ISO date. */
  date?: string;
  reason?: string;
}

export interface StreamMetadata {
  owner?: string;
  namespace?: string;
  description?: string;
  deprecated?: Deprecation;
  /** Field (or column) name → how it is published. */
  pii: ReadonlyMap<string, PiiHandling>;
  financial: ReadonlySet<string>;
}

const isPattern = (key: string) => /[*?]/.test(key);

/** `*` any run of characters, `?` one, everything else literal. */
export function topicPattern(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

/** True when nothing in it would change a schema or a value. */
export function isBare(m: StreamMetadata): boolean {
  return !m.owner && !m.namespace && !m.description && !m.deprecated && m.pii.size === 0 && m.financial.size === 0;
}

export class StreamDeclarations {
  private readonly patterns: { pattern: RegExp; metadata: StreamMetadataConfig }[];

  constructor(private readonly config: StreamsConfig) {
    this.patterns = Object.entries(config.topics)
      .filter(([key]) => isPattern(key))
      .map(([key, metadata]) => ({ pattern: topicPattern(key), metadata }));
  }

  get hashKey(): string | undefined {
    return this.config.hashKey;
  }

  /** Topics named exactly (not by a pattern) in `streams.topics`. */
  exactTopics(): string[] {
    return Object.keys(this.config.topics).filter((k) => !isPattern(k));
  }

  /** Connector names that `streams.connectors` lists. */
  connectorNames(): string[] {
    return Object.keys(this.config.connectors);
  }

  /** The metadata of `topic` as written by `connector` (unknown: topic-level declarations only). */
  resolve(topic: string, connector?: string): StreamMetadata {
    const levels: StreamMetadataConfig[] = [];
    if (this.config.defaults) levels.push(this.config.defaults);
    const own = connector === undefined ? undefined : this.config.connectors[connector];
    if (own) levels.push(own);
    for (const p of this.patterns) if (p.pattern.test(topic)) levels.push(p.metadata);
    const exact = isPattern(topic) ? undefined : this.config.topics[topic];
    if (exact) levels.push(exact);
    return merge(levels);
  }
}

function merge(levels: readonly StreamMetadataConfig[]): StreamMetadata {
  const out: { owner?: string; namespace?: string; description?: string; deprecated?: Deprecation } = {};
  let handling: PiiHandling = "clear";
  const listed = new Set<string>();
  const explicit = new Map<string, PiiHandling>();
  const financial = new Set<string>();
  for (const level of levels) {
    if (level.owner !== undefined) out.owner = level.owner;
    if (level.namespace !== undefined) out.namespace = level.namespace;
    if (level.description !== undefined) out.description = level.description;
    if (level.deprecated === false) delete out.deprecated;
    else if (level.deprecated === true) out.deprecated = {};
    else if (level.deprecated !== undefined) out.deprecated = { ...level.deprecated };
    if (level.piiHandling !== undefined) handling = level.piiHandling;
    if (Array.isArray(level.pii)) {
      for (const field of level.pii) {
        listed.add(field);
        explicit.delete(field);
      }
    } else if (level.pii) {
      for (const [field, how] of Object.entries(level.pii)) explicit.set(field, how);
    }
    for (const field of level.financial ?? []) financial.add(field);
  }
  const pii = new Map<string, PiiHandling>();
  for (const field of listed) pii.set(field, handling);
  for (const [field, how] of explicit) pii.set(field, how);
  return { ...out, pii, financial };
}
