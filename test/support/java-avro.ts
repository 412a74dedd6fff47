/**
 * A decoder that is not ours: Apache Avro's Java library (test/support/java/AvroJudge.java) reads
 * topics through the schema registry's REST API, and its rendering of every key and value must
 * equal ours. Our round trips check our encoder against our decoder; a value two implementations
 * of the specification read alike is one every consumer can read.
 *
 * The jars (Avro 1.12 and the Kafka client) are resolved from Maven Central into the ignored
 * .cache/ by scripts/fetch-jars.sh, and the judge is compiled with javac, both once per machine;
 * each call starts one JVM, so a test file reads all its topics in one call.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import avsc, { type Type } from "avsc";
import Fastify from "fastify";
import { registryRoutes } from "../../src/runtime/http/registry-routes.js";
import { avroType, MICRO_TIME_NAME } from "../../src/runtime/avro/logical-types.js";
import { parseTime } from "../../src/runtime/avro/values.js";
import type { SchemaRegistry } from "../../src/runtime/schema-registry/registry-api.js";
import { createSchemaService, parseSchemaRegistryConfig } from "../../src/runtime/schema-registry/index.js";
import { silentLog, testKafka } from "./kafka.js";
import { harness } from "../harness/env.js";
import { cacheDir, repoRoot } from "../harness/paths.js";
import { run } from "../harness/process.js";
import { readTopic } from "../harness/topics.js";

const { types } = avsc;

/** A value as AvroJudge prints it: text for every scalar but booleans, so nothing is rounded. */
export type Rendering = null | boolean | string | Rendering[] | { [key: string]: Rendering };

export interface JudgedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Rendering;
  value: Rendering;
}

export interface JavaReading {
  records: JudgedRecord[];
  /** Registered schema versions that parsed strictly, with valid logical types. */
  schemas: { schema: number; subject: string; version: number }[];
  /** What Java could not parse, decode or accept, each with where. */
  errors: string[];
}

const SOURCE = path.join(repoRoot, "test", "support", "java", "AvroJudge.java");
const POM = path.join(repoRoot, "test", "support", "java", "pom.xml");

let classpath: Promise<string> | undefined;

/**
 * The jars and the compiled judge; under a file lock, since two test files may ask at once and
 * fetch-jars.sh replaces its folder. Classes are kept per source hash: an edit recompiles.
 */
function javaClasspath(): Promise<string> {
  classpath ??= (async () => {
    const version = /<avro\.version>([^<]+)</.exec(readFileSync(POM, "utf8"))?.[1];
    if (!version) throw new Error(`${POM} names no <avro.version>`);
    const dest = path.join(cacheDir, "java-avro", version);
    const classes = path.join(dest, `classes-${createHash("sha256").update(readFileSync(SOURCE)).digest("hex").slice(0, 12)}`);
    const script = `set -e
bash "$1" "$2" "$3" "Apache Avro $4"
if [ ! -d "$5" ]; then tmp="$(mktemp -d "$3/.classes.XXXXXX")"; javac -d "$tmp" -cp "$3/libs/*" "$6"; mv "$tmp" "$5"; fi`;
    await run("flock", [path.join(cacheDir, "java-avro.lock"), "bash", "-c", script, "prepare", path.join(repoRoot, "scripts", "fetch-jars.sh"), POM, dest, version, classes, SOURCE], {
      timeoutMs: 600_000,
    });
    return `${classes}:${path.join(dest, "libs", "*")}`;
  })();
  return classpath;
}

/** Every record of `topics` (read_committed, to their end) as Java decodes it, and every registered schema checked. */
export async function readWithJava(options: { registryUrl: string; topics: string[]; brokers?: string[]; timeoutMs?: number }): Promise<JavaReading> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const brokers = (options.brokers ?? harness().kafka.brokers).join(",");
  const child = spawn("java", ["-cp", await javaClasspath(), "AvroJudge", brokers, options.registryUrl, String(timeoutMs), ...options.topics], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs + 60_000);
  const reading: JavaReading = { records: [], schemas: [], errors: [] };
  let done = false;
  for await (const line of createInterface({ input: child.stdout })) {
    const entry = JSON.parse(line) as { error?: string; where?: string; schema?: number; done?: number } & JudgedRecord & JavaReading["schemas"][number];
    if (entry.error !== undefined) reading.errors.push(`${entry.where}: ${entry.error}`);
    else if (entry.schema !== undefined) reading.schemas.push({ schema: entry.schema, subject: entry.subject, version: entry.version });
    else if (entry.done !== undefined) done = true;
    else reading.records.push({ topic: entry.topic, partition: entry.partition, offset: entry.offset, key: entry.key, value: entry.value });
  }
  const code = await exited;
  clearTimeout(killer);
  if (code !== 0 || !done) reading.errors.push(`java exited with ${code}: ${stderr.trim().split("\n").slice(-20).join("\n")}`);
  return reading;
}

/**
 * Our decoded value rendered as AvroJudge renders Java's, walking the writer's schema as avsc
 * built it: floats and doubles as the hex of their IEEE bits, bytes as hex, a MicroTime duration
 * as its microseconds (Java has only the long), everything else in our canonical text.
 */
export function renderOurs(value: unknown, type: Type): Rendering {
  if (type instanceof types.UnwrappedUnionType) {
    const branch = type.types.find((t) => t.isValid(value));
    if (!branch) throw new Error(`no branch of ${JSON.stringify(type.schema())} holds ${JSON.stringify(value)}`);
    return renderOurs(value, branch);
  }
  if (value === null) return null;
  if (type instanceof types.RecordType) {
    return Object.fromEntries(type.fields.map((f) => [f.name, renderOurs((value as Record<string, unknown>)[f.name], f.type)]));
  }
  if (type instanceof types.ArrayType) return (value as unknown[]).map((v) => renderOurs(v, type.itemsType));
  if (type instanceof types.MapType) {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, renderOurs(v, type.valuesType as Type)]));
  }
  if (typeof value === "boolean") return value;
  if (Buffer.isBuffer(value)) return value.toString("hex");
  if (type.typeName === "float") return `f${Number.isNaN(value) ? "7fc00000" : bits(4, (v) => v.setFloat32(0, value as number)).toString(16)}`;
  if (type.typeName === "double") return `d${Number.isNaN(value) ? "7ff8000000000000" : bits(8, (v) => v.setFloat64(0, value as number)).toString(16)}`;
  if (type.typeName === `logical:${MICRO_TIME_NAME}`) return String(parseTime(value as string));
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  throw new Error(`no rendering for ${typeof value} under ${JSON.stringify(type.schema())}`);
}

function bits(size: 4 | 8, write: (view: DataView) => void): number | bigint {
  const view = new DataView(new ArrayBuffer(size));
  write(view);
  return size === 4 ? view.getUint32(0) : view.getBigUint64(0);
}

/** Where two renderings differ, as "path: ours … java …" lines appended to `out`. */
export function differences(ours: Rendering, theirs: Rendering, where: string, out: string[]): void {
  if (ours !== null && theirs !== null && typeof ours === "object" && typeof theirs === "object" && Array.isArray(ours) === Array.isArray(theirs)) {
    const keys = new Set([...Object.keys(ours), ...Object.keys(theirs)]);
    for (const k of keys) differences((ours as Record<string, Rendering>)[k] ?? null, (theirs as Record<string, Rendering>)[k] ?? null, `${where}.${k}`, out);
    if (Object.keys(ours).length !== Object.keys(theirs).length) out.push(`${where}: ${Object.keys(ours).length} entries ours, ${Object.keys(theirs).length} java`);
    return;
  }
  if (ours !== theirs) out.push(`${where}: ours ${short(ours)}, java ${short(theirs)}`);
}

const short = (r: Rendering) => {
  const text = JSON.stringify(r);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
};

export interface Judgement {
  /** Records read, by us and by Java alike. */
  records: number;
  /** Schema versions Java parsed and checked. */
  schemas: number;
  errors: string[];
  /** Values whose renderings differ, first ones first. */
  differences: string[];
}

/**
 * Reads `topics` both ways, ours (the deserializer over the registry's REST API, read_committed)
 * and Java's, and compares every key and value. A test expects `errors` and `differences` empty.
 */
export async function judgeTopics(registryUrl: string, topics: string[]): Promise<Judgement> {
  const [java, ours] = await Promise.all([readWithJava({ registryUrl, topics }), readOurs(registryUrl, topics)]);
  const judgement: Judgement = { records: ours.length, schemas: java.schemas.length, errors: [...java.errors], differences: [] };
  const theirs = new Map(java.records.map((r) => [`${r.topic}/${r.partition}@${r.offset}`, r]));
  for (const r of ours) {
    const where = `${r.topic}/${r.partition}@${r.offset}`;
    const other = theirs.get(where);
    theirs.delete(where);
    if (!other) judgement.differences.push(`${where}: not read by java`);
    else {
      differences(r.key, other.key, `${where} key`, judgement.differences);
      differences(r.value, other.value, `${where} value`, judgement.differences);
    }
  }
  for (const where of theirs.keys()) judgement.differences.push(`${where}: read by java only`);
  return judgement;
}

async function readOurs(registryUrl: string, topics: string[]): Promise<JudgedRecord[]> {
  const service = await createSchemaService(parseSchemaRegistryConfig({ url: registryUrl }), { kafka: testKafka(), log: silentLog });
  const typeOf = new Map<number, Type>();
  const render = async (payload: Buffer | null): Promise<Rendering> => {
    const decoded = await service.deserializer.deserialize(payload);
    if (!decoded) return null;
    let type = typeOf.get(decoded.schemaId);
    if (!type) typeOf.set(decoded.schemaId, (type = avroType(decoded.schema)));
    return renderOurs(decoded.value, type);
  };
  try {
    const out: JudgedRecord[] = [];
    for (const topic of topics) {
      for (const m of await readTopic(harness().kafka.brokers, topic, { timeoutMs: 60_000 })) {
        out.push({ topic, partition: m.partition, offset: m.offset, key: await render(m.key), value: await render(m.value) });
      }
    }
    return out;
  } finally {
    await service.close();
  }
}

/** The Confluent REST API over a registry the test holds (an embedded one, say), on a free port. */
export async function serveRegistry(registry: SchemaRegistry): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify();
  await app.register(registryRoutes(async () => registry));
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  return { url: address, close: () => app.close() };
}

/** judgeTopics over the embedded registry kept in `schemasTopic`, served on a free port for the time of the reading. */
export async function judgeWithEmbeddedRegistry(schemasTopic: string, topics: string[]): Promise<Judgement> {
  const service = await createSchemaService(parseSchemaRegistryConfig({ topic: schemasTopic }), { kafka: testKafka(), log: silentLog });
  const server = await serveRegistry(service.registry);
  try {
    return await judgeTopics(server.url, topics);
  } finally {
    await server.close();
    await service.close();
  }
}
