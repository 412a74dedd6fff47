/**
 * A schema registry for users without one: state in the compacted topic `_liberator_schemas`,
 * tailed by every worker, served through the Confluent REST API (http/registry-routes.ts).
 *
 * Several workers may register at the same moment, and there is no leader. What makes them agree:
 *
 * - Ids come from the schema's canonical form (canonical.ts), so two workers registering the same
 *   schema write the same id without asking anyone.
 * - The topic has one partition, and every worker applies its records in log order through the
 *   same state machine, so every worker derives the same state from the same log.
 * - Schema and version records get keys no one else writes (a random suffix): compaction never
 *   drops one, so their relative order is permanent and a worker that starts a year later derives
 *   the same versions. (With shared keys, compaction keeps the last of two writes, which can move
 *   a record after one it used to precede and renumber versions on the next start.)
 * - Ownership of an id: the first schema record for it. A later record with another schema under
 *   the same id (a hash collision) never takes it over: that registration is refused.
 * - A version record claims "version N of subject S is schema X". It counts only if N is exactly
 *   one past the subject's last version at that point of the log, X is not in S yet, and X's owner
 *   is the schema the claim was made for. When two workers race for N, the first claim in the log
 *   wins; the loser sees that after reading to the end, checks its schema again against the new
 *   latest version (the winner changed what "compatible" means) and claims N+1, or is refused.
 *   Two workers registering the same schema both claim N; the second claim is ignored and both
 *   return the same id.
 * - Compatibility levels are plain last-write-wins keys (`config/<subject>`); compaction keeps the
 *   newest, which is what a reader wants.
 */
import { randomUUID } from "node:crypto";
import { ErrorCode, LiberatorError, SchemaIncompatibleError } from "../errors.js";
import type { Logger } from "../log.js";
import { fingerprint, parseSchema, schemaId, type ParsedSchema } from "../avro/canonical.js";
import { checkCompatibility, versionsToCheck, type Incompatibility } from "../avro/compatibility.js";
import { invalidCompatibility, schemaNotFound, subjectNotFound, versionNotFound, type CompatibilityAnswer, type RegisteredSchema, type SchemaRegistry } from "./registry-api.js";
import { isCompatibilityLevel, type CompatibilityLevel } from "../avro/compatibility.js";

export const SCHEMAS_TOPIC = "_liberator_schemas";

export type SchemaLogRecord =
  | { kind: "schema"; id: number; schema: string }
  | { kind: "version"; subject: string; version: number; id: number; fingerprint: string }
  | { kind: "config"; compatibilityLevel: CompatibilityLevel };

/** The part of CompactedTopicLog (src/runtime/kafka/compacted-log.ts) the registry uses. */
export interface SchemaLog {
  start(): Promise<void>;
  readToEnd(timeoutMs?: number): Promise<void>;
  onUpdate(fn: (key: string, value: SchemaLogRecord | null) => void): () => void;
  write(key: string, value: Buffer | null): Promise<void>;
  stop(): Promise<void>;
}

/** For CompactedTopicLog's `decode`: a record we cannot read is skipped there, with a warning. */
export function decodeSchemaLogRecord(value: Buffer): SchemaLogRecord {
  const record = JSON.parse(value.toString("utf8")) as SchemaLogRecord;
  const ok =
    (record.kind === "schema" && Number.isInteger(record.id) && typeof record.schema === "string") ||
    (record.kind === "version" && typeof record.subject === "string" && Number.isInteger(record.version) && Number.isInteger(record.id)) ||
    (record.kind === "config" && isCompatibilityLevel(record.compatibilityLevel));
  if (!ok) throw new Error(`not a schema log record: ${value.toString("utf8").slice(0, 200)}`);
  return record;
}

const encode = (record: SchemaLogRecord) => Buffer.from(JSON.stringify(record));
const CONFIG_KEY = "config";
/** Registration attempts when other workers keep taking the next version first. */
const ATTEMPTS = 10;

interface Subject {
  /** Schema ids by version - 1. */
  ids: number[];
  versionOf: Map<number, number>;
}

export interface EmbeddedRegistryOptions {
  log: SchemaLog;
  logger: Logger;
  /** The global level until someone sets one through the API. */
  defaultCompatibility: CompatibilityLevel;
  /** How long to wait for the topic to be read to its end. */
  readTimeoutMs?: number;
}

export class EmbeddedRegistry implements SchemaRegistry {
  private readonly schemas = new Map<number, ParsedSchema & { fingerprint: string }>();
  private readonly bySubject = new Map<string, Subject>();
  private readonly levels = new Map<string, CompatibilityLevel>();
  private readonly unsubscribe: () => void;
  /** Registrations and config changes of this process, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: EmbeddedRegistryOptions) {
    this.unsubscribe = options.log.onUpdate((key, value) => this.apply(key, value));
  }

  /** Reads the topic to its end; the registry answers from memory after that. */
  async start(): Promise<void> {
    await this.options.log.start();
    await this.readToEnd();
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.options.log.stop();
  }

  register(subject: string, text: string): Promise<number> {
    const parsed = parseSchema(text);
    return this.exclusive(async () => {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        await this.readToEnd();
        const known = this.find(subject, parsed.canonical);
        if (known) return known.id;
        const id = schemaId(parsed.canonical);
        const print = fingerprint(parsed.canonical);
        const owner = this.schemas.get(id);
        if (owner && owner.fingerprint !== print) throw collision(id, owner.text, parsed.text);
        const problems = this.problems(subject, parsed);
        if (problems.length > 0) throw new SchemaIncompatibleError(problems.map((p) => p.message).join("\n"));
        if (!owner) await this.options.log.write(`schema/${id}/${randomUUID()}`, encode({ kind: "schema", id, schema: parsed.text }));
        const version = (this.bySubject.get(subject)?.ids.length ?? 0) + 1;
        await this.options.log.write(`version/${randomUUID()}`, encode({ kind: "version", subject, version, id, fingerprint: print }));
        await this.readToEnd();
        const winner = this.schemas.get(id);
        if (winner && winner.fingerprint !== print) throw collision(id, winner.text, parsed.text);
        if (this.bySubject.get(subject)?.versionOf.has(id)) return id;
        this.options.logger.info({ subject, version }, "another worker registered that version first: checking again");
      }
      throw new LiberatorError(ErrorCode.SCHEMA_REGISTRY_UNAVAILABLE, `could not register a version of subject "${subject}": other workers kept taking it`);
    });
  }

  async lookup(subject: string, text: string): Promise<RegisteredSchema | null> {
    return this.find(subject, parseSchema(text).canonical) ?? null;
  }

  async schemaById(id: number): Promise<string> {
    // an id another worker registered a moment ago may still be on its way to us
    if (!this.schemas.has(id)) await this.readToEnd();
    const schema = this.schemas.get(id);
    if (!schema) throw schemaNotFound(id);
    return schema.text;
  }

  async subjects(): Promise<string[]> {
    return [...this.bySubject.keys()].sort();
  }

  async versions(subject: string): Promise<number[]> {
    return this.subject(subject).ids.map((_, i) => i + 1);
  }

  async version(subject: string, version: number | "latest"): Promise<RegisteredSchema> {
    const { ids } = this.subject(subject);
    const n = version === "latest" ? ids.length : version;
    const id = ids[n - 1];
    if (id === undefined) throw versionNotFound(n);
    return this.registered(subject, n, id);
  }

  async compatibility(subject?: string): Promise<CompatibilityLevel | null> {
    if (subject === undefined) return this.levels.get(CONFIG_KEY) ?? this.options.defaultCompatibility;
    return this.levels.get(`${CONFIG_KEY}/${subject}`) ?? null;
  }

  setCompatibility(level: CompatibilityLevel, subject?: string): Promise<void> {
    if (!isCompatibilityLevel(level)) throw invalidCompatibility();
    return this.exclusive(async () => {
      await this.options.log.write(subject === undefined ? CONFIG_KEY : `${CONFIG_KEY}/${subject}`, encode({ kind: "config", compatibilityLevel: level }));
      await this.readToEnd();
    });
  }

  async testCompatibility(subject: string, text: string): Promise<CompatibilityAnswer> {
    const messages = this.problems(subject, parseSchema(text)).map((p) => p.message);
    return { compatible: messages.length === 0, messages };
  }

  private apply(key: string, record: SchemaLogRecord | null): void {
    if (key === CONFIG_KEY || key.startsWith(`${CONFIG_KEY}/`)) {
      if (record?.kind === "config") this.levels.set(key, record.compatibilityLevel);
      else this.levels.delete(key);
      return;
    }
    if (record?.kind === "schema") this.applySchema(record);
    else if (record?.kind === "version") this.applyVersion(record);
  }

  private applySchema(record: Extract<SchemaLogRecord, { kind: "schema" }>): void {
    if (this.schemas.has(record.id)) return; // the first record owns the id
    let parsed: ParsedSchema;
    try {
      parsed = parseSchema(record.schema);
    } catch (err) {
      this.options.logger.warn({ id: record.id, err }, "skipping a schema record that does not parse");
      return;
    }
    if (schemaId(parsed.canonical) !== record.id) {
      this.options.logger.warn({ id: record.id }, "skipping a schema record whose id is not its canonical form's");
      return;
    }
    this.schemas.set(record.id, { ...parsed, fingerprint: fingerprint(parsed.canonical) });
  }

  private applyVersion(record: Extract<SchemaLogRecord, { kind: "version" }>): void {
    if (this.schemas.get(record.id)?.fingerprint !== record.fingerprint) return;
    let subject = this.bySubject.get(record.subject);
    if (!subject) {
      if (record.version !== 1) return;
      this.bySubject.set(record.subject, (subject = { ids: [], versionOf: new Map() }));
    }
    if (subject.versionOf.has(record.id) || record.version !== subject.ids.length + 1) return;
    subject.ids.push(record.id);
    subject.versionOf.set(record.id, record.version);
  }

  private problems(subject: string, candidate: ParsedSchema): Incompatibility[] {
    const level = this.levels.get(`${CONFIG_KEY}/${subject}`) ?? this.levels.get(CONFIG_KEY) ?? this.options.defaultCompatibility;
    const ids = this.bySubject.get(subject)?.ids ?? [];
    const previous = versionsToCheck(level, ids.map((id, i) => ({ version: i + 1, type: this.schemas.get(id)!.type })));
    return checkCompatibility(subject, level, candidate.type, previous);
  }

  private find(subject: string, canonical: string): RegisteredSchema | undefined {
    const id = schemaId(canonical);
    const version = this.bySubject.get(subject)?.versionOf.get(id);
    if (version === undefined || this.schemas.get(id)?.canonical !== canonical) return undefined;
    return this.registered(subject, version, id);
  }

  private registered(subject: string, version: number, id: number): RegisteredSchema {
    return { subject, version, id, schema: this.schemas.get(id)!.text };
  }

  private subject(name: string): Subject {
    const subject = this.bySubject.get(name);
    if (!subject) throw subjectNotFound(name);
    return subject;
  }

  private readToEnd(): Promise<void> {
    return this.options.log.readToEnd(this.options.readTimeoutMs);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function collision(id: number, owner: string, refused: string): LiberatorError {
  return new LiberatorError(ErrorCode.SCHEMA_INVALID, `schema id ${id} already belongs to another schema (${owner.slice(0, 120)}); refusing ${refused.slice(0, 120)}`, {
    fix: "add a connect.parameters entry to the schema (it is part of the canonical form), which moves it to another id",
  });
}
