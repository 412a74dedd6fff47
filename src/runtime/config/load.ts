import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.js";
import { connectorSpec, connectorTypes, type ConnectorSpec } from "../registry.js";
import { interpolate, InterpolationProblem } from "./interpolate.js";
import { describeIssue, type Path } from "./issues.js";
import { connectorBaseSchema, rootSchema, type ConnectorBase, type RootConfig } from "./schema.js";
import { closest } from "./suggest.js";

export interface ConnectorConfig {
  name: string;
  type: string;
  spec: ConnectorSpec;
  /** The connector's whole config (common and type-specific fields), parsed by its spec. */
  config: ConnectorBase & Record<string, unknown>;
}

export interface LoadedConfig {
  file: string;
  root: RootConfig;
  connectors: ConnectorConfig[];
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
}

/**
 * Reads connectors.yaml: YAML, then `${…}` interpolation in every scalar, then the root schema and
 * each connector's schema. Collects every problem before failing, each with file:line, connector
 * and field, so one run of `liberator validate` shows them all.
 */
export function loadConfig(path: string, options: LoadOptions = {}): LoadedConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError([`${path}: cannot read the config file (${(err as Error).message})`]);
  }
  return parseConfig(text, file, options);
}

export function parseConfig(text: string, file: string, options: LoadOptions = {}): LoadedConfig {
  const name = basename(file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => `${name}:${e.linePos?.[0].line ?? "?"} ${e.message.split("\n")[0]} (YAML syntax)`),
    );
  }

  const problems: { path: Path; message: string }[] = [];
  const secrets = new Set<string>();
  interpolateTree(doc.contents, [], options.env ?? process.env, dirname(file), problems, secrets);

  const data: unknown = doc.toJS() ?? {};
  const locate = (path: Path) => lineOf(doc, lineCounter, path);
  const report = (path: Path, message: string) => problems.push({ path, message });
  const isSecret = (path: Path) => secrets.has(path.join("."));

  const root = rootSchema.safeParse(data, { reportInput: true });
  if (!root.success) {
    for (const issue of root.error.issues) {
      if (issue.path[0] === "connectors" && issue.path.length > 1) continue;
      for (const p of describeIssue(issue, rootSchema, isSecret)) report(p.path, p.message);
    }
  }

  const rawConnectors = Array.isArray((data as { connectors?: unknown }).connectors)
    ? ((data as { connectors: unknown[] }).connectors)
    : [];
  const names = rawConnectors.map((c) =>
    c && typeof c === "object" && typeof (c as { name?: unknown }).name === "string" ? (c as { name: string }).name : undefined,
  );
  const connectors: ConnectorConfig[] = [];
  rawConnectors.forEach((raw, index) => {
    const at: Path = ["connectors", index];
    // from the names as written, so a repeated name is reported beside whatever else is wrong with either connector
    const name = names[index];
    const first = name === undefined ? -1 : names.indexOf(name);
    if (first >= 0 && first < index) report([...at, "name"], `"${name}" is already used by connector #${first + 1}; names must be unique`);
    const parsed = parseConnector(raw, at, isSecret, report);
    if (parsed && first === index) connectors.push(parsed);
  });

  if (problems.length > 0) {
    const lines = problems
      .map((p) => ({ ...p, line: locate(p.path) }))
      .sort((a, b) => a.line - b.line)
      .map((p) => {
        const inConnector = p.path[0] === "connectors" && typeof p.path[1] === "number";
        const who = inConnector ? `connector "${names[p.path[1] as number] ?? `#${(p.path[1] as number) + 1}`}": ` : "";
        const field = (inConnector ? p.path.slice(2) : p.path).join(".");
        return `${name}:${p.line} ${who}${field ? `${field} ` : ""}${p.message}`;
      });
    throw new ConfigError(lines);
  }

  return { file, root: root.data!, connectors };
}

function parseConnector(
  raw: unknown,
  at: Path,
  isSecret: (p: Path) => boolean,
  report: (path: Path, message: string) => void,
): ConnectorConfig | undefined {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    report(at, "must be a mapping with at least name and type");
    return undefined;
  }
  const obj = raw as Record<string, unknown>;
  const type = obj.type;
  if (typeof type !== "string") {
    report([...at, "type"], `is required: one of ${connectorTypes().join("|")}`);
    return undefined;
  }
  const spec = connectorSpec(type);
  if (!spec) {
    const hint = closest(type, connectorTypes());
    report([...at, "type"], `must be one of ${connectorTypes().join("|")}, got "${type}"${hint ? ` (did you mean "${hint}"?)` : ""}`);
    return undefined;
  }
  const schema = spec.config as z.ZodType<ConnectorBase & Record<string, unknown>>;
  const result = schema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const secretWithin = (p: Path) => isSecret([...at, ...p]);
    for (const issue of result.error.issues) {
      for (const p of describeIssue(issue, schema, secretWithin)) report([...at, ...p.path], p.message);
    }
    return undefined;
  }
  // a source type that cannot share its work runs as one task
  if (result.data.tasks !== 1 && spec.kind === "source" && !spec.autoTasks) {
    report([...at, "tasks"], `must be 1: a ${type} source cannot share its work between tasks`);
    return undefined;
  }
  return { name: result.data.name, type, spec, config: result.data };
}

/** A connector type's schema: the common fields plus its own, unknown keys refused. */
export function connectorSchema<T extends z.core.$ZodLooseShape>(shape: T) {
  return connectorBaseSchema.extend(shape);
}

function interpolateTree(
  node: unknown,
  path: Path,
  env: NodeJS.ProcessEnv,
  baseDir: string,
  problems: { path: Path; message: string }[],
  secrets: Set<string>,
): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      interpolateTree(pair.value, [...path, key], env, baseDir, problems, secrets);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => interpolateTree(item, [...path, i], env, baseDir, problems, secrets));
  } else if (isScalar(node) && typeof node.value === "string" && node.value.includes("${")) {
    try {
      const { value, secret } = interpolate(node.value, env, baseDir);
      node.value = value;
      if (secret) secrets.add(path.join("."));
    } catch (err) {
      if (!(err instanceof InterpolationProblem)) throw err;
      problems.push({ path, message: err.message });
    }
  }
}

/** The line of the deepest node on `path` that exists (a missing key points at its parent). */
function lineOf(doc: Document, counter: LineCounter, path: Path): number {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
    if (node && typeof node === "object" && "range" in node && node.range) {
      // for a mapping value, point at its key's line rather than the value's
      const keyNode = n > 0 ? keyNodeOf(doc, path.slice(0, n)) : undefined;
      return counter.linePos((keyNode ?? node).range![0]).line;
    }
  }
  return 1;
}

function keyNodeOf(doc: Document, path: Path): Node | undefined {
  const parent = doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const last = path[path.length - 1];
  const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
  return pair && isScalar(pair.key) ? (pair.key) : undefined;
}
