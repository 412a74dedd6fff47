/**
 * The client side of any registry: compiled schemas by object, canonical form and id; the ids of
 * schemas already registered per subject; and the one path from "a schema I want to use" to "an
 * id I may write", through the local compatibility check. A steady stream hits only the caches.
 */
import type { AvroSchema } from "../connector.js";
import { ErrorCode, LiberatorError, SchemaIncompatibleError } from "../errors.js";
import { parseSchema, type ParsedSchema } from "../avro/canonical.js";
import { checkCompatibility, versionsToCheck, type Incompatibility } from "../avro/compatibility.js";
import type { SchemaRegistry } from "./registry-api.js";
import type { CompatibilityLevel } from "../avro/compatibility.js";

export type AssessmentStatus = "unchanged" | "new" | "compatible" | "breaking";

/** Where a schema stands against its subject, without registering anything. */
export interface Assessment {
  subject: string;
  status: AssessmentStatus;
  level: CompatibilityLevel;
  /** The latest registered version, null for a subject without any. */
  latest: number | null;
  /** Set when the schema is registered under the subject already. */
  id?: number;
  problems: Incompatibility[];
}

/** A schema that became usable under a subject in this process: registered now, or found registered. */
export interface SubjectSchemaEvent {
  subject: string;
  schema: ParsedSchema;
  id: number;
  /** The compatibility level it was checked against. */
  level: CompatibilityLevel;
  /** True when this process registered it; false when it was registered already (another worker, an earlier run). */
  registered: boolean;
}

export type SubjectSchemaListener = (event: SubjectSchemaEvent) => Promise<void>;

export class SchemaCatalog {
  private readonly byObject = new WeakMap<object, ParsedSchema>();
  /** Schemas given as a bare name ("string", "long"). */
  private readonly byName = new Map<string, ParsedSchema>();
  private readonly byCanonical = new Map<string, ParsedSchema>();
  private readonly byId = new Map<number, Promise<ParsedSchema>>();
  /** subject → canonical form → id, for schemas registered (or found registered) there. */
  private readonly ids = new Map<string, Map<string, number>>();
  private readonly registering = new Map<string, Promise<number>>();
  private readonly listeners = new Set<SubjectSchemaListener>();

  constructor(
    readonly registry: SchemaRegistry,
    private readonly defaultCompatibility: CompatibilityLevel = "BACKWARD",
  ) {}

  /**
   * Called, and awaited, the first time this process gets an id for a schema under a subject:
   * schema-change notices are published from here, before any record uses the new version.
   */
  onSubjectSchema(listener: SubjectSchemaListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The compiled schema, by object identity first and canonical form second (one avsc Type per schema). */
  parsed(schema: AvroSchema): ParsedSchema {
    if (typeof schema === "string") {
      let named = this.byName.get(schema);
      if (!named) this.byName.set(schema, (named = this.share(parseSchema(schema))));
      return named;
    }
    let known = this.byObject.get(schema);
    if (!known) this.byObject.set(schema, (known = this.share(parseSchema(schema))));
    return known;
  }

  private share(fresh: ParsedSchema): ParsedSchema {
    const shared = this.byCanonical.get(fresh.canonical);
    if (shared) return shared;
    this.byCanonical.set(fresh.canonical, fresh);
    return fresh;
  }

  /** The schema of an id, fetched once. */
  schemaFor(id: number): Promise<ParsedSchema> {
    let entry = this.byId.get(id);
    if (!entry) {
      entry = this.registry.schemaById(id).then((text) => this.share(parseSchema(text)));
      entry.catch(() => this.byId.delete(id)); // a failed fetch is retried on the next record
      this.byId.set(id, entry);
    }
    return entry;
  }

  async assess(subject: string, schema: ParsedSchema): Promise<Assessment> {
    const found = await this.registry.lookup(subject, schema.text);
    const level = (await this.registry.compatibility(subject)) ?? (await this.registry.compatibility()) ?? this.defaultCompatibility;
    const versions = await this.registry.versions(subject).catch((err: unknown) => {
      if (err instanceof LiberatorError && err.code === ErrorCode.SCHEMA_SUBJECT_NOT_FOUND) return [];
      throw err;
    });
    const latest = versions[versions.length - 1] ?? null;
    if (found) {
      if (this.remember(subject, schema.canonical, found.id)) await this.announce({ subject, schema, id: found.id, level, registered: false });
      return { subject, status: "unchanged", level, latest, id: found.id, problems: [] };
    }
    if (latest === null) return { subject, status: "new", level, latest, problems: [] };
    const previous = await Promise.all(
      versionsToCheck(level, versions).map(async (v) => {
        const registered = await this.registry.version(subject, v);
        return { version: registered.version, type: this.share(parseSchema(registered.schema)).type };
      }),
    );
    const problems = checkCompatibility(subject, level, schema.type, previous);
    return { subject, status: problems.length > 0 ? "breaking" : "compatible", level, latest, problems };
  }

  /** Throws SchemaIncompatibleError when `schema` may not become the next version of `subject`. */
  async check(subject: string, schema: ParsedSchema): Promise<void> {
    if (this.ids.get(subject)?.has(schema.canonical)) return;
    const assessment = await this.assess(subject, schema);
    if (assessment.status === "breaking") throw incompatible(assessment);
  }

  /** The id to write `schema` under `subject` with, registering it first when needed. */
  idFor(subject: string, schema: ParsedSchema): number | Promise<number> {
    const id = this.ids.get(subject)?.get(schema.canonical);
    if (id !== undefined) return id;
    const key = `${subject}\u0000${schema.canonical}`;
    let pending = this.registering.get(key);
    if (!pending) {
      pending = this.register(subject, schema).finally(() => this.registering.delete(key));
      this.registering.set(key, pending);
    }
    return pending;
  }

  private async register(subject: string, schema: ParsedSchema): Promise<number> {
    const assessment = await this.assess(subject, schema);
    if (assessment.id !== undefined) return assessment.id;
    if (assessment.status === "breaking") throw incompatible(assessment);
    const id = await this.registry.register(subject, schema.text);
    if (this.remember(subject, schema.canonical, id)) await this.announce({ subject, schema, id, level: assessment.level, registered: true });
    return id;
  }

  /** True when the id is new to this process. */
  private remember(subject: string, canonical: string, id: number): boolean {
    let bySubject = this.ids.get(subject);
    if (!bySubject) this.ids.set(subject, (bySubject = new Map<string, number>()));
    if (bySubject.get(canonical) === id) return false;
    bySubject.set(canonical, id);
    return true;
  }

  private async announce(event: SubjectSchemaEvent): Promise<void> {
    for (const listener of this.listeners) await listener(event);
  }
}

function incompatible(assessment: Assessment): SchemaIncompatibleError {
  return new SchemaIncompatibleError(assessment.problems.map((p) => p.message).join("\n"), {
    fix: `make the change compatible, or change the subject's level (PUT /config/${assessment.subject}) if consumers can cope`,
  });
}
