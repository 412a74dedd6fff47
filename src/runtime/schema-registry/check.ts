/**
 * `liberator schemas check`: every stream's schema as the source database is now, against the
 * registry, one row per subject. A deployment pipeline runs it before rolling out a DDL or a new
 * release and stops on a non-zero exit code when consumers would break.
 */
import type { AvroSchema } from "../connector.js";
import type { StreamDescription } from "../registry.js";
import type { AssessmentStatus, SchemaCatalog } from "./catalog.js";
import type { CompatibilityLevel } from "../avro/compatibility.js";

export interface SchemaCheckRow {
  subject: string;
  status: AssessmentStatus;
  level: CompatibilityLevel;
  /** The latest registered version; null for a new subject. */
  latest: number | null;
  /** For a breaking change: subject, field and rule, one line each. */
  messages: string[];
}

export interface SchemaCheckReport {
  rows: SchemaCheckRow[];
  /** 1 when any subject would break its consumers, else 0. */
  exitCode: 0 | 1;
}

export async function checkSchemas(streams: readonly StreamDescription[], catalog: SchemaCatalog): Promise<SchemaCheckReport> {
  const subjects: [string, AvroSchema][] = streams.flatMap((s) => [
    ...(s.keySchema ? [[`${s.topic}-key`, s.keySchema] as [string, AvroSchema]] : []),
    [`${s.topic}-value`, s.valueSchema] as [string, AvroSchema],
  ]);
  const rows = await Promise.all(
    subjects.map(async ([subject, schema]) => {
      const a = await catalog.assess(subject, catalog.parsed(schema));
      return { subject, status: a.status, level: a.level, latest: a.latest, messages: a.problems.map((p) => p.message) };
    }),
  );
  return { rows, exitCode: rows.some((r) => r.status === "breaking") ? 1 : 0 };
}

const RESULT: Record<AssessmentStatus, (r: SchemaCheckRow) => string> = {
  unchanged: (r) => `unchanged (v${r.latest})`,
  new: () => "new subject (would be v1)",
  compatible: (r) => `compatible change (would be v${(r.latest ?? 0) + 1})`,
  breaking: () => "BREAKING",
};

/** A table for people, then each breaking change's reasons, then a one-line verdict. */
export function formatSchemaCheck(report: SchemaCheckReport): string {
  const header = ["SUBJECT", "LEVEL", "RESULT"];
  const cells = report.rows.map((r) => [r.subject, r.level, RESULT[r.status](r)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i < c.length - 1 ? v.padEnd(widths[i]!) : v)).join("  ");
  const out = [line(header), ...cells.map(line)];
  const breaking = report.rows.filter((r) => r.status === "breaking");
  if (breaking.length > 0) {
    out.push("", ...breaking.flatMap((r) => r.messages.map((m) => `  ${m}`)));
    out.push("", `${breaking.length} subject(s) would break their consumers.`);
  } else {
    out.push("", "No change breaks a consumer.");
  }
  return out.join("\n");
}
