import pino from "pino";
import { describe, expect, it } from "vitest";
import { canonicalForm, schemaId } from "../../../src/runtime/avro/canonical.js";
import { EmbeddedRegistry } from "../../../src/runtime/schema-registry/embedded-registry.js";
import { MemoryTopic } from "./memory-log.js";

const logger = pino({ level: "silent" });

async function registryOn(topic: MemoryTopic) {
  const log = topic.tail();
  const registry = new EmbeddedRegistry({ log, logger, defaultCompatibility: "BACKWARD" });
  await registry.start();
  return { registry, log };
}

const record = (...fields: object[]) => JSON.stringify({ type: "record", name: "R", fields: [{ name: "id", type: "long" }, ...fields] });
const v1 = record();
const v2 = record({ name: "note", type: ["null", "string"], default: null });
const v3 = record({ name: "qty", type: ["null", "int"], default: null });

describe("the embedded registry's state machine", () => {
  it("derives ids from the canonical form and numbers versions per subject", async () => {
    const { registry } = await registryOn(new MemoryTopic());
    const id1 = await registry.register("a-value", v1);
    expect(id1).toBe(schemaId(canonicalForm(JSON.parse(v1))));
    expect(await registry.register("a-value", v1)).toBe(id1);
    const id2 = await registry.register("a-value", v2);
    expect(await registry.versions("a-value")).toEqual([1, 2]);
    expect(await registry.register("b-value", v2)).toBe(id2);
    expect(await registry.version("b-value", "latest")).toEqual({ subject: "b-value", version: 1, id: id2, schema: JSON.stringify(JSON.parse(v2)) });
    expect(await registry.subjects()).toEqual(["a-value", "b-value"]);
    expect(await registry.lookup("a-value", JSON.stringify(JSON.parse(v2), null, 2))).toMatchObject({ version: 2, id: id2 });
  });

  it("refuses an incompatible version and keeps the subject as it was", async () => {
    const { registry } = await registryOn(new MemoryTopic());
    await registry.register("s", v1);
    await expect(registry.register("s", record({ name: "x", type: "int" }))).rejects.toMatchObject({
      code: "SCHEMA_INCOMPATIBLE",
      message: expect.stringContaining('subject "s": field "x" was added without a default, which BACKWARD forbids'),
    });
    expect(await registry.versions("s")).toEqual([1]);
    await registry.setCompatibility("NONE", "s");
    await registry.register("s", record({ name: "x", type: "int" }));
    expect(await registry.versions("s")).toEqual([1, 2]);
  });

  it("rebuilds the same subjects, versions and levels from the log on another worker", async () => {
    const topic = new MemoryTopic();
    const { registry } = await registryOn(topic);
    await registry.register("s", v1);
    await registry.register("s", v2);
    await registry.setCompatibility("FULL");
    const other = (await registryOn(topic)).registry;
    expect(await other.versions("s")).toEqual([1, 2]);
    expect(await other.version("s", 2)).toEqual(await registry.version("s", 2));
    expect(await other.compatibility()).toBe("FULL");
    expect(await other.compatibility("s")).toBe(null);
  });

  it("gives two workers registering different schemas at once consecutive versions, the loser re-checked", async () => {
    const topic = new MemoryTopic();
    const a = await registryOn(topic);
    const b = await registryOn(topic);
    await a.registry.register("s", v1);
    // b claims version 2 while a's claim for version 2 is already in the log but not yet read by b
    let raced = false;
    b.log.beforeWrite = async (key) => {
      if (!raced && key.startsWith("version/")) {
        raced = true;
        await a.registry.register("s", v2);
      }
    };
    const idB = await b.registry.register("s", v3);
    await a.log.readToEnd();
    const versions = await Promise.all([1, 2, 3].map((v) => a.registry.version("s", v)));
    expect(versions.map((v) => v.schema)).toEqual([v1, v2, v3].map((s) => JSON.stringify(JSON.parse(s))));
    expect(versions[2]!.id).toBe(idB);
    expect(await b.registry.versions("s")).toEqual([1, 2, 3]);
  });

  it("gives two workers registering the same schema at once one version and one id", async () => {
    const topic = new MemoryTopic();
    const a = await registryOn(topic);
    const b = await registryOn(topic);
    let raced = false;
    b.log.beforeWrite = async (key) => {
      if (!raced && key.startsWith("version/")) {
        raced = true;
        await a.registry.register("s", v1);
      }
    };
    const [idA, idB] = [await b.registry.register("s", v1), (await a.registry.lookup("s", v1))!.id];
    expect(idA).toBe(idB);
    expect(await a.registry.versions("s")).toEqual([1]);
    expect(await b.registry.versions("s")).toEqual([1]);
  });

  it("refuses a second schema whose canonical form hashes to an id already taken", async () => {
    // a real collision of the 31-bit id: found by the birthday search below, in ~50k schemas
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const text = JSON.stringify({ type: "record", name: "R", fields: [{ name: `f${i}`, type: "int" }] });
      const id = schemaId(canonicalForm(JSON.parse(text)));
      const earlier = seen.get(id);
      if (earlier) pair = [earlier, text];
      else seen.set(id, text);
    }
    const { registry } = await registryOn(new MemoryTopic());
    const id = await registry.register("first", pair[0]);
    await expect(registry.register("second", pair[1])).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      message: expect.stringContaining(`schema id ${id} already belongs to another schema`),
    });
    expect(await registry.schemaById(id)).toBe(pair[0]);
    expect(await registry.subjects()).toEqual(["first"]);
  });

  it("answers Confluent's not-found errors by kind", async () => {
    const { registry } = await registryOn(new MemoryTopic());
    await expect(registry.versions("nope")).rejects.toMatchObject({ code: "SCHEMA_SUBJECT_NOT_FOUND", message: "Subject 'nope' not found." });
    await registry.register("s", v1);
    await expect(registry.version("s", 9)).rejects.toMatchObject({ code: "SCHEMA_VERSION_NOT_FOUND", message: "Version 9 not found." });
    await expect(registry.schemaById(1)).rejects.toMatchObject({ code: "SCHEMA_NOT_FOUND", message: "Schema 1 not found" });
    expect(await registry.lookup("s", v2)).toBe(null);
  });
});
