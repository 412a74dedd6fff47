import type { SchemaLog, SchemaLogRecord } from "../../../src/runtime/schema-registry/embedded-registry.js";
import { decodeSchemaLogRecord } from "../../../src/runtime/schema-registry/embedded-registry.js";

/**
 * A stand-in for the compacted topic, for unit tests of the registry's state machine: one ordered
 * log shared by every `tail()`, each tail applying records only when it reads to the end, as a
 * worker tailing the real topic does. The Kafka-backed registry is tested in test/integration.
 */
export class MemoryTopic {
  readonly records: { key: string; value: Buffer | null }[] = [];

  tail(): MemoryLog {
    return new MemoryLog(this);
  }
}

export class MemoryLog implements SchemaLog {
  private applied = 0;
  private readonly listeners = new Set<(key: string, value: SchemaLogRecord | null) => void>();
  /** Runs before each write lands, so a test can let another worker write first. */
  beforeWrite: ((key: string) => Promise<void>) | undefined;

  constructor(readonly topic: MemoryTopic) {}

  async start(): Promise<void> {}

  async readToEnd(): Promise<void> {
    while (this.applied < this.topic.records.length) {
      const { key, value } = this.topic.records[this.applied++]!;
      const decoded = value === null ? null : decodeSchemaLogRecord(value);
      for (const fn of this.listeners) fn(key, decoded);
    }
  }

  onUpdate(fn: (key: string, value: SchemaLogRecord | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async write(key: string, value: Buffer | null): Promise<void> {
    await this.beforeWrite?.(key);
    this.topic.records.push({ key, value });
  }

  async stop(): Promise<void> {}
}
