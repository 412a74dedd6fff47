import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Type } from "avsc";
import type { AvroSchema, SchemaGate } from "../../runtime/connector.js";
import { ConfigError, DataError, ErrorCode, LiberatorError, PreconditionError } from "../../runtime/errors.js";
import { avroType } from "../../runtime/avro/logical-types.js";
import type { EventTypeConfig, OutboxConfig } from "./config.js";

/** An event type's schema, compiled, and where its values are registered. */
export interface EventSchema {
  readonly eventType: string;
  /** One object per schema version: the serializer caches by identity. */
  readonly schema: AvroSchema;
  readonly type: Type;
  /** The registry subject a value of this type is written under, on `topic`. */
  subjectFor(topic: string): string;
  /** "file" (or inline) or the subject it was taken from. */
  readonly origin: string;
}

/** `{name}` placeholders filled from `values`; unknown names are left as they are. */
export function fillPattern(pattern: string, values: Record<string, string>): string {
  return pattern.replace(/\{([^{}]+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** Schema JSON text or an object, from the config or a file. */
export function readSchema(source: string | Record<string, unknown>, what: string): AvroSchema {
  if (typeof source !== "string") return source as AvroSchema;
  const trimmed = source.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[") || trimmed.startsWith('"')) return parseJson(trimmed, what);
  const path = resolve(trimmed);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError([`${what}: cannot read the schema file ${path} (${(err as Error).message}); relative paths start at the working directory`]);
  }
  return parseJson(text, `${what} (${path})`);
}

function parseJson(text: string, what: string): AvroSchema {
  try {
    return JSON.parse(text) as AvroSchema;
  } catch (err) {
    throw new ConfigError([`${what}: the schema is not JSON (${(err as Error).message})`]);
  }
}

export function compile(schema: AvroSchema, what: string): Type {
  try {
    return avroType(schema);
  } catch (err) {
    throw new ConfigError([`${what}: not a valid Avro schema (${(err as Error).message})`]);
  }
}

/**
 * The schemas of the event types: listed in `events` (a file, inline, or a registry subject), or
 * found as `<type>.avsc` in `schemaDir`. Files are read once; a registry subject is read at open
 * and again when a payload does not fit it (the application may have registered a newer version).
 */
export class EventSchemas {
  private readonly known = new Map<string, EventSchema>();
  private readonly refreshedAt = new Map<string, number>();

  constructor(
    private readonly config: Pick<OutboxConfig, "events" | "schemaDir" | "subject">,
    private readonly gate: SchemaGate,
  ) {}

  /** Reads every listed type now, so a missing file or subject stops the relay at its start. */
  async load(): Promise<void> {
    await Promise.all(Object.keys(this.config.events).map((type) => this.get(type)));
  }

  /** The schema of `type` when it was read already: the path of every event after the first of its type. */
  cached(type: string): EventSchema | undefined {
    return this.known.get(type);
  }

  /** The schema of `type`, or undefined when no schema is configured for it. */
  async get(type: string): Promise<EventSchema | undefined> {
    const known = this.known.get(type);
    if (known) return known;
    const listed = this.config.events[type];
    const schema = listed ? await this.fromConfig(type, listed) : this.fromDir(type);
    if (schema) this.known.set(type, schema);
    return schema;
  }

  /**
   * Reads a registry-sourced type again (at most once a second): true when a different version
   * came back, so the payload that did not fit is worth a second try.
   */
  async refresh(type: string): Promise<boolean> {
    const current = this.known.get(type);
    const listed = this.config.events[type];
    if (!current || !listed || listed.schema !== undefined || listed.version !== "latest") return false;
    const last = this.refreshedAt.get(type) ?? 0;
    if (Date.now() - last < 1_000) return false;
    this.refreshedAt.set(type, Date.now());
    const fresh = await this.fromConfig(type, listed);
    if (fresh.schema === current.schema) return false;
    this.known.set(type, fresh);
    return true;
  }

  private async fromConfig(type: string, listed: EventTypeConfig): Promise<EventSchema> {
    const what = `events.${type}`;
    if (listed.schema !== undefined) return this.build(type, readSchema(listed.schema, `${what}.schema`), listed.subject ?? this.config.subject, "file");
    const subject = fillPattern(listed.subject!, { type });
    if (!this.gate.registered) throw new PreconditionError(ErrorCode.OUTBOX_REGISTRY_UNAVAILABLE, `${what}: no schema registry to read subject "${subject}" from`);
    try {
      return this.build(type, await this.gate.registered(subject, listed.version), subject, subject);
    } catch (err) {
      if (err instanceof LiberatorError && (err.code === ErrorCode.SCHEMA_SUBJECT_NOT_FOUND || err.code === ErrorCode.SCHEMA_VERSION_NOT_FOUND)) {
        throw new PreconditionError(ErrorCode.OUTBOX_SCHEMA_NOT_REGISTERED, `${what}: the registry has no version ${listed.version} of subject "${subject}"`, {
          cause: err,
          fix: `register the event's schema under "${subject}", or name an .avsc file in ${what}.schema`,
        });
      }
      throw err;
    }
  }

  private fromDir(type: string): EventSchema | undefined {
    const dir = this.config.schemaDir;
    if (dir === undefined || !/^[\w.-]+$/.test(type)) return undefined;
    const path = join(resolve(dir), `${type}.avsc`);
    if (!existsSync(path)) return undefined;
    return this.build(type, readSchema(path, `schemaDir ${type}.avsc`), this.config.subject, "file");
  }

  private build(eventType: string, schema: AvroSchema, subjectPattern: string, origin: string): EventSchema {
    const type = compile(schema, `event type "${eventType}"`);
    const record = type.name ?? eventType;
    const subjects = new Map<string, string>();
    const subjectFor = (topic: string) => {
      let subject = subjects.get(topic);
      if (subject === undefined) subjects.set(topic, (subject = origin === "file" ? fillPattern(subjectPattern, { topic, record, type: eventType }) : subjectPattern));
      return subject;
    };
    return { eventType, schema, type, origin, subjectFor };
  }
}

/** A row whose type has no schema: what to say, and how to fix it. */
export function unknownEventType(type: string, config: Pick<OutboxConfig, "schemaDir">): DataError {
  const where = config.schemaDir ? ` and no ${type}.avsc in ${resolve(config.schemaDir)}` : "";
  return new DataError(ErrorCode.OUTBOX_EVENT_TYPE_UNKNOWN, `event type "${type}" has no schema: it is not listed in \`events\`${where}`, {
    fix: `add events.${type} with its schema (an .avsc file or a registry subject)`,
  });
}
