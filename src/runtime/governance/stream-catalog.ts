/**
 * The stream catalog: one entry per topic Liberator writes (connector, source table, key, subject
 * and schema version, owner, PII…), in a compacted topic keyed by topic, so every worker, the
 * admin API and `liberator streams` see the same catalog. An entry is written when a connector
 * first writes a stream in a process, or its schema or metadata changed, and only if it differs
 * from the stored one: a steady stream writes nothing.
 */
import type { Kafka } from "kafkajs";
import { CompactedTopicLog } from "../kafka/compacted-log.js";
import type { Logger } from "../log.js";
import type { PiiField } from "./decorate.js";
import type { Deprecation, StreamDeclarations, StreamMetadata } from "./metadata.js";

export interface SubjectVersion {
  subject: string;
  /** Null when the registry could not be asked. */
  version: number | null;
  id: number | null;
  /** The full name of the record, or the primitive type. */
  record: string;
}

export interface StreamEntry {
  topic: string;
  connector: string;
  connectorType: string;
  /** The captured table, from the envelope's `source` block; null for event streams (outbox). */
  source: { db: string; table: string | null } | null;
  /** Key fields; null for a stream without a key, [] for a key that is not a record. */
  key: string[] | null;
  keySubject: SubjectVersion | null;
  /** The value subject written last, and its version. */
  subject: string;
  schemaVersion: number | null;
  schemaId: number | null;
  /** Every value subject the stream has used (an outbox topic has one per event type). */
  valueSubjects: SubjectVersion[];
  owner: string | null;
  namespace: string | null;
  description: string | null;
  deprecated: Deprecation | null;
  pii: PiiField[];
  financial: string[];
  updatedAt: string;
}

/** An entry without `updatedAt`, to tell whether anything changed. */
const comparable = (e: StreamEntry) => JSON.stringify({ ...e, updatedAt: undefined });

export function decodeStreamEntry(value: Buffer): StreamEntry {
  const entry = JSON.parse(value.toString("utf8")) as StreamEntry;
  if (typeof entry.topic !== "string" || typeof entry.connector !== "string") throw new Error("not a stream catalog entry");
  return entry;
}

export class StreamCatalog {
  private constructor(private readonly log: CompactedTopicLog<StreamEntry>) {}

  static async open(kafka: Kafka, topic: string, log: Logger, replicationFactor = -1): Promise<StreamCatalog> {
    const table = new CompactedTopicLog<StreamEntry>({ kafka, topic, log, partitions: 1, replicationFactor, decode: decodeStreamEntry });
    await table.start();
    return new StreamCatalog(table);
  }

  async list(): Promise<StreamEntry[]> {
    await this.log.readToEnd();
    return [...this.log.entries()].map(([, e]) => e).sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  }

  async get(topic: string): Promise<StreamEntry | undefined> {
    await this.log.readToEnd();
    return this.log.get(topic);
  }

  /**
   * Stores the entry unless the catalog holds the same already; value subjects seen before (other
   * event types of the topic) are kept. Resolves true when it wrote.
   */
  async upsert(entry: StreamEntry): Promise<boolean> {
    await this.log.readToEnd();
    const stored = this.log.get(entry.topic);
    const subjects = new Map((stored?.valueSubjects ?? []).map((s) => [s.subject, s]));
    for (const s of entry.valueSubjects) subjects.set(s.subject, s);
    const merged: StreamEntry = { ...entry, valueSubjects: [...subjects.values()].sort((a, b) => (a.subject < b.subject ? -1 : 1)) };
    if (stored && comparable(stored) === comparable(merged)) return false;
    await this.log.write(entry.topic, Buffer.from(JSON.stringify(merged)));
    return true;
  }

  async close(): Promise<void> {
    await this.log.stop();
  }
}

/** What a declared stream shows before anything was written to it. */
export interface DeclaredStream extends Pick<StreamEntry, "topic" | "owner" | "namespace" | "description" | "deprecated" | "financial"> {
  written: false;
  pii: { field: string; handling: string }[];
}

export type CatalogItem = (StreamEntry & { written: true }) | DeclaredStream;

export function metadataFields(meta: StreamMetadata): Pick<StreamEntry, "owner" | "namespace" | "description" | "deprecated"> {
  return {
    owner: meta.owner ?? null,
    namespace: meta.namespace ?? null,
    description: meta.description ?? null,
    deprecated: meta.deprecated ?? null,
  };
}

/** The catalog's entries, plus the topics the config declares that nothing has written yet. */
export function catalogItems(entries: readonly StreamEntry[], declarations: StreamDeclarations): CatalogItem[] {
  const written = new Set(entries.map((e) => e.topic));
  const declared: DeclaredStream[] = declarations
    .exactTopics()
    .filter((topic) => !written.has(topic))
    .map((topic) => {
      const meta = declarations.resolve(topic);
      return {
        topic,
        written: false,
        ...metadataFields(meta),
        pii: [...meta.pii].map(([field, handling]) => ({ field, handling })),
        financial: [...meta.financial],
      };
    });
  const items: CatalogItem[] = [...entries.map((e) => ({ ...e, written: true as const })), ...declared];
  return items.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
}
