/**
 * Confluent's compatibility levels, computed locally. Whether a reader can read a writer is what
 * avsc's resolver says (our logical types refuse reinterpretations such as a new decimal scale);
 * when it cannot, the walk below narrows the failure down to the field and the change, so the
 * message names subject, field and rule.
 */
import avsc, { type Type } from "avsc";
import { describeType, losesMeaningUnannotated } from "./logical-types.js";

const { types } = avsc;

export const COMPATIBILITY_LEVELS = [
  "BACKWARD",
  "BACKWARD_TRANSITIVE",
  "FORWARD",
  "FORWARD_TRANSITIVE",
  "FULL",
  "FULL_TRANSITIVE",
  "NONE",
] as const;

export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === "string" && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

export type Direction = "backward" | "forward";

export interface Incompatibility {
  /** Field names from the top record down to the field that changed; empty for the whole schema. */
  path: string[];
  kind: "type" | "missing-default" | "symbols" | "name";
  /** The type in the registered version and in the new schema. */
  from: string;
  to: string;
  /** The registered version it was checked against. */
  version: number;
  direction: Direction;
  message: string;
}

export interface PreviousVersion {
  version: number;
  type: Type;
}

/** Which registered versions a level checks a new schema against (given oldest first). */
export function versionsToCheck<T>(level: CompatibilityLevel, versions: readonly T[]): T[] {
  if (level === "NONE" || versions.length === 0) return [];
  return level.endsWith("_TRANSITIVE") ? [...versions] : [versions[versions.length - 1]!];
}

function directions(level: CompatibilityLevel): Direction[] {
  if (level.startsWith("BACKWARD")) return ["backward"];
  if (level.startsWith("FORWARD")) return ["forward"];
  if (level.startsWith("FULL")) return ["backward", "forward"];
  return [];
}

const WHY: Record<Direction, string> = {
  backward: "consumers on the new schema cannot read old records",
  forward: "consumers on the old schema cannot read new records",
};

/**
 * Checks `candidate` against `previous` (the versions `versionsToCheck` chose) under `level`.
 * Returns every broken rule; none means the candidate may be registered.
 */
export function checkCompatibility(subject: string, level: CompatibilityLevel, candidate: Type, previous: readonly PreviousVersion[]): Incompatibility[] {
  const problems: Incompatibility[] = [];
  const seen = new Set<string>();
  for (const old of previous) {
    for (const direction of directions(level)) {
      const [reader, writer] = direction === "backward" ? [candidate, old.type] : [old.type, candidate];
      if (canRead(reader, writer)) continue;
      const findings: Finding[] = [];
      explain(reader, writer, [], findings);
      for (const f of findings) {
        const problem = describe(subject, level, direction, old.version, previous.length > 1, f);
        if (seen.has(problem.message)) continue; // before/after of an envelope share one row type
        seen.add(problem.message);
        problems.push(problem);
      }
    }
  }
  return problems;
}

/** avsc's schema resolution, plus: no value read without the logical type that gives it its meaning. */
export function canRead(reader: Type, writer: Type): boolean {
  return resolves(reader, writer) && keepsMeaning(reader, writer, new Set());
}

function resolves(reader: Type, writer: Type): boolean {
  try {
    reader.createResolver(writer);
    return true;
  } catch {
    return false;
  }
}

/** Walks the pair as avsc resolves it (which already succeeded) and looks at every leaf. */
function keepsMeaning(reader: Type, writer: Type, seen: Set<string>): boolean {
  const readerBranches = branches(reader);
  const writerBranches = branches(writer);
  if (readerBranches || writerBranches) {
    return (writerBranches ?? [writer]).every((w) => (readerBranches ?? [reader]).some((r) => resolves(r, w) && keepsMeaning(r, w, seen)));
  }
  if (isRecord(reader) && isRecord(writer)) {
    const pair = `${reader.name}:${writer.name}`;
    if (seen.has(pair)) return true; // a recursive schema: this pair is being checked already
    seen.add(pair);
    return reader.fields.every((field) => {
      const match = writer.fields.find((w) => w.name === field.name || field.aliases.includes(w.name));
      return !match || keepsMeaning(field.type, match.type, seen);
    });
  }
  if (reader instanceof types.ArrayType && writer instanceof types.ArrayType) return keepsMeaning(reader.itemsType, writer.itemsType, seen);
  if (reader instanceof types.MapType && writer instanceof types.MapType) return keepsMeaning(reader.valuesType as Type, writer.valuesType as Type, seen);
  return !(losesMeaningUnannotated(writer) && !(reader instanceof types.LogicalType));
}

interface Finding {
  path: string[];
  kind: Incompatibility["kind"];
  reader: Type;
  writer: Type;
  symbols?: string[];
}

function branches(type: Type): Type[] | undefined {
  return type instanceof types.UnwrappedUnionType || type instanceof types.WrappedUnionType
    ? (type as unknown as { types: Type[] }).types
    : undefined;
}

function isRecord(type: Type): type is avsc.types.RecordType {
  return type instanceof types.RecordType;
}

function sameKind(a: Type, b: Type): boolean {
  if (isRecord(a) && isRecord(b)) return a.name === b.name;
  return (
    (a instanceof types.ArrayType && b instanceof types.ArrayType) ||
    (a instanceof types.MapType && b instanceof types.MapType) ||
    (a instanceof types.EnumType && b instanceof types.EnumType && a.name === b.name)
  );
}

/** Walks down to where `reader` stops being able to read `writer`. */
function explain(reader: Type, writer: Type, path: string[], out: Finding[]): void {
  const readerBranches = branches(reader);
  const writerBranches = branches(writer);
  if (readerBranches || writerBranches) {
    const candidates = readerBranches ?? [reader];
    for (const w of writerBranches ?? [writer]) {
      if (candidates.some((r) => canRead(r, w))) continue;
      const twin = candidates.find((r) => sameKind(r, w));
      if (twin) explain(twin, w, path, out);
      else out.push({ path, kind: "type", reader, writer });
      return;
    }
  }
  if (isRecord(reader) && isRecord(writer)) {
    if (reader.name !== writer.name && !(reader.aliases ?? []).includes(writer.name ?? "")) {
      out.push({ path, kind: "name", reader, writer });
      return;
    }
    const before = out.length;
    for (const field of reader.fields) {
      const match = writer.fields.find((w) => w.name === field.name || field.aliases.includes(w.name));
      if (!match) {
        if (field.defaultValue() === undefined) out.push({ path: [...path, field.name], kind: "missing-default", reader, writer });
      } else if (!canRead(field.type, match.type)) {
        explain(field.type, match.type, [...path, field.name], out);
      }
    }
    if (out.length === before) out.push({ path, kind: "type", reader, writer });
    return;
  }
  if (reader instanceof types.ArrayType && writer instanceof types.ArrayType) return explain(reader.itemsType, writer.itemsType, path, out);
  if (reader instanceof types.MapType && writer instanceof types.MapType) {
    return explain(reader.valuesType as Type, writer.valuesType as Type, path, out);
  }
  if (reader instanceof types.EnumType && writer instanceof types.EnumType && reader.name === writer.name) {
    const symbols = writer.symbols.filter((s) => !reader.symbols.includes(s));
    out.push({ path, kind: "symbols", reader, writer, symbols });
    return;
  }
  out.push({ path, kind: "type", reader, writer });
}

function describe(subject: string, level: CompatibilityLevel, direction: Direction, version: number, several: boolean, f: Finding): Incompatibility {
  // backward: the new schema reads the old one; forward: the old one reads the new
  const [oldType, newType] = direction === "backward" ? [f.writer, f.reader] : [f.reader, f.writer];
  const name = f.path[f.path.length - 1];
  const field = name === undefined ? "the schema" : `field "${name}"`;
  let what: string;
  switch (f.kind) {
    case "missing-default":
      what = direction === "backward" ? `${field} was added without a default` : `${field} was removed and has no default in the old schema`;
      break;
    case "symbols":
      what = `${field} ${direction === "backward" ? "lost" : "gained"} the symbols ${f.symbols!.join(", ")}`;
      break;
    case "name":
      what = `record ${oldType.name ?? "?"} was renamed to ${newType.name ?? "?"}`;
      break;
    default:
      what = `${field} changed from ${describeType(oldType)} to ${describeType(newType)}`;
  }
  const against = several ? ` (checked against version ${version})` : "";
  return {
    path: f.path,
    kind: f.kind,
    from: describeType(oldType),
    to: describeType(newType),
    version,
    direction,
    message: `subject "${subject}": ${what}${against}, which ${level} forbids (${WHY[direction]})`,
  };
}
