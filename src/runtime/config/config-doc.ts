/**
 * The config tables of the docs, generated from the zod schemas (scripts/update-docs.ts writes
 * them, a unit test checks them): a field's meaning is its `.describe()` text, its default the
 * schema's `.default()`, so neither can drift from what `liberator validate` accepts.
 */
import { z } from "zod";

declare module "zod" {
  interface GlobalMeta {
    /** A default the loader works out (the connector's name, the dialect's port), as the docs say it. */
    defaultText?: string;
    /** How the docs name a record's keys: `type` gives `events.<type>.schema`. */
    keyName?: string;
  }
}

export interface ConfigRow {
  field: string;
  default: string;
  meaning: string;
}

interface Field {
  description?: string;
  defaultText?: string;
  keyName?: string;
  required: boolean;
  hasDefault: boolean;
  defaultValue: unknown;
  /** What is left once optional, default and pipe wrappers are taken off. */
  core: z.ZodType;
}

/** Takes the wrappers off a field, keeping the outermost description and default found on the way. */
function unwrap(schema: z.ZodType): Field {
  const field: Field = { required: true, hasDefault: false, defaultValue: undefined, core: schema };
  let s = schema;
  for (;;) {
    const meta = z.globalRegistry.get(s);
    field.description ??= meta?.description;
    field.defaultText ??= meta?.defaultText;
    field.keyName ??= meta?.keyName;
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
      field.required = false;
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodDefault) {
      if (!field.hasDefault) [field.hasDefault, field.defaultValue] = [true, s.def.defaultValue];
      field.required = false;
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPrefault) {
      // an object whose own fields' defaults apply when it is left out
      field.required = false;
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      // z.preprocess and transforms: the type the value is checked as is on the other side
      s = (s.in instanceof z.ZodTransform ? s.out : s.in) as z.ZodType;
    } else {
      field.core = s;
      return field;
    }
  }
}

const MIB = 1024 * 1024;

function formatDefault(name: string, value: unknown): string {
  if (typeof value === "number") {
    const text = value >= 10_000 ? value.toLocaleString("en-US") : String(value);
    return /Bytes$/.test(name) && value >= MIB && value % MIB === 0 ? `${text} (${value / MIB} MiB)` : text;
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) return "—";
  return typeof value === "string" && value !== "" ? `\`${value}\`` : `\`${JSON.stringify(value)}\``;
}

export interface TableOptions {
  /** Top-level fields left out (a connector's table leaves out the fields every connector has). */
  omit?: readonly string[];
  /** Put before every field's name: `kafka.` for the root config's `kafka` block. */
  prefix?: string;
}

/**
 * One row per field of `schema` (an object). An object or a record of objects without a
 * description of its own is shown as its fields (`deletes.detect`, `events.<type>.schema`); with
 * one, as one row.
 */
export function configRows(schema: z.ZodType, { omit = [], prefix: top = "" }: TableOptions = {}): ConfigRow[] {
  const rows: ConfigRow[] = [];
  const walk = (object: z.ZodType, prefix: string) => {
    const core = unwrap(object).core;
    if (!(core instanceof z.ZodObject)) return;
    const shape: Record<string, z.ZodType> = core.shape;
    for (const [key, value] of Object.entries(shape)) {
      if (prefix === top && omit.includes(key)) continue;
      const name = `${prefix}${key}`;
      const field = unwrap(value);
      if (field.description === undefined && field.core instanceof z.ZodObject) {
        walk(field.core, `${name}.`);
        continue;
      }
      if (field.description === undefined && field.core instanceof z.ZodRecord) {
        walk(field.core.valueType as z.ZodType, `${name}.<${field.keyName ?? "name"}>.`);
        continue;
      }
      const shown = field.defaultText ?? (field.hasDefault ? formatDefault(key, field.defaultValue) : field.required ? "(required)" : "—");
      // a described record is one row, named by its keys when the docs name them (`acls.topics.<connector>`)
      const named = field.core instanceof z.ZodRecord && field.keyName !== undefined ? `${name}.<${field.keyName}>` : name;
      rows.push({ field: named, default: shown, meaning: field.description ?? "" });
    }
  };
  walk(schema, top);
  return rows;
}

export function configMarkdown(schema: z.ZodType, options: TableOptions = {}): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const lines = ["| field | default | meaning |", "|---|---|---|"];
  for (const r of configRows(schema, options)) lines.push(`| \`${r.field}\` | ${cell(r.default)} | ${cell(r.meaning)} |`);
  return lines.join("\n");
}
