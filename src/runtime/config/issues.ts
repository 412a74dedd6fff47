import type { z } from "zod";
import { closest } from "./suggest.js";

export type Path = (string | number)[];

type Issue = z.core.$ZodIssue;

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
}

/** A schema's definition through zod's public `.def`, narrowed to the wrappers walked below. */
const defOf = (s: z.ZodType): Def => s.def;

/** The keys an object schema at `path` accepts, looking through optional/default/pipe/union wrappers. */
export function keysAt(schema: z.ZodType, path: Path): string[] {
  let current: z.ZodType[] = [schema];
  for (const step of [...path, null]) {
    const next: z.ZodType[] = [];
    const keys: string[] = [];
    const visit = (s: z.ZodType): void => {
      const def = defOf(s);
      switch (def.type) {
        case "optional":
        case "nullable":
        case "default":
        case "prefault":
        case "readonly":
        case "catch":
          return visit(def.innerType!);
        case "pipe":
          visit(def.in!);
          return;
        case "union":
          def.options!.forEach(visit);
          return;
        case "object":
          if (step === null) keys.push(...Object.keys(def.shape!));
          else if (typeof step === "string" && def.shape![step]) next.push(def.shape![step]);
          return;
        case "array":
          if (typeof step === "number") next.push(def.element!);
          return;
        default:
          return;
      }
    };
    current.forEach(visit);
    if (step === null) return [...new Set(keys)];
    current = next;
  }
  return [];
}

const show = (v: unknown): string => {
  if (v === undefined) return "nothing";
  const s = typeof v === "string" ? `"${v}"` : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
};

const typeName = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "object" ? "a mapping" : typeof v;

/**
 * Turns one zod issue into messages a person can act on: what was expected, what was found
 * (never a secret), and a did-you-mean for unknown keys.
 */
export function describeIssue(
  issue: Issue,
  schema: z.ZodType,
  isSecret: (path: Path) => boolean,
): { path: Path; message: string }[] {
  const path = issue.path as Path;
  const input: unknown = (issue as { input?: unknown }).input;
  const got = isSecret(path) ? "[redacted]" : show(input);
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = keysAt(schema, path);
      return issue.keys.map((key) => {
        const hint = closest(key, allowed);
        return {
          path: [...path, key],
          message: `is not a known key${hint ? ` (did you mean "${hint}"?)` : ""}; allowed here: ${allowed.join(", ")}`,
        };
      });
    }
    case "invalid_type":
      if (input === undefined) return [{ path, message: `is required (${issue.expected})` }];
      return [{ path, message: `must be ${article(issue.expected)}, got ${typeName(input)} ${got}` }];
    case "invalid_value":
      return [{ path, message: `must be one of ${issue.values.map(String).join("|")}, got ${got}` }];
    case "invalid_union": {
      // our number/boolean fields are unions of "the value" and "its string spelling": report the
      // branch that got furthest rather than both
      const branches = issue.errors.map((b) => b.filter((i) => !(i.code === "invalid_type" && i.path.length === 0)));
      const best = branches.find((b) => b.length > 0)?.[0];
      if (best) return describeIssue({ ...best, path: [...path, ...best.path] }, schema, isSecret);
      const expected = issue.errors
        .map((b) => b[0])
        .filter((i): i is Issue => i?.code === "invalid_type")
        .map((i) => (i as { expected: string }).expected);
      if (input === undefined) return [{ path, message: "is required" }];
      return [{ path, message: `must be ${expected.map(article).join(" or ")}, got ${typeName(input)} ${got}` }];
    }
    case "too_small":
      return [{ path, message: `must be ${bound(issue.origin, ">=", issue.minimum)}, got ${got}` }];
    case "too_big":
      return [{ path, message: `must be ${bound(issue.origin, "<=", issue.maximum)}, got ${got}` }];
    default:
      return [{ path, message: `${lowerFirst(issue.message)}, got ${got}` }];
  }
}

const article = (t: string): string => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);
const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
const bound = (origin: string, op: string, n: unknown): string =>
  origin === "array" || origin === "string" || origin === "set"
    ? `${origin === "array" ? "a list" : "a string"} with ${op === ">=" ? "at least" : "at most"} ${String(n)} ${origin === "string" ? "characters" : "items"}`
    : `${op} ${String(n)}`;
