/**
 * Poison records in a sink's topic, under concurrent writers: a foreign producer writes a record
 * that is not the wire format and one whose schema id the registry does not know (magic byte 0,
 * id 32767) between the source's change events. The PostgreSQL sink (`errors.tolerance: all`)
 * dead-letters both with their cause and never stops; the MariaDB sink (`none`) stops at each one,
 * at its exact offset, and `PUT …/offsets?force=true` past it starts it again. The three-way
 * comparison then finds every change once in both sinks. docs/operations.md, "Poison records".
 */
import { Kafka, logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import { ERROR_CATALOGUE, isErrorCode } from "../../src/runtime/errors.js";
import { kafkaClientConfig, readTopic, waitFor } from "../harness/index.js";
import type { Rig } from "./rig.js";
import { runScenario, useRig, type Fault } from "./scenario.js";

const NOT_AVRO = Buffer.from("not avro at all");
/** The wire format's header with an id no registry of the suite has. */
const UNKNOWN_SCHEMA = Buffer.concat([Buffer.from([0, 0, 0, 0x7f, 0xff]), Buffer.from("a body no schema reads")]);
const POISON = [
  { value: NOT_AVRO, code: "WIRE_FORMAT_INVALID" },
  { value: UNKNOWN_SCHEMA, code: "SCHEMA_NOT_FOUND" },
];

/** Written as another application would: a plain producer, no schema registry. Returns `topic/partition@offset` of each. */
async function writePoison(rig: Rig, topic: string): Promise<{ at: string; offset: string }[]> {
  const kafka = new Kafka({ ...kafkaClientConfig({ brokers: rig.kafka.brokers }, "fault-suite-poison"), logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  try {
    const out: { at: string; offset: string }[] = [];
    for (const { value } of POISON) {
      const [meta] = await producer.send({ topic, acks: -1, messages: [{ partition: 0, key: null, value }] });
      out.push({ at: `${topic}/0@${meta!.baseOffset!}`, offset: meta!.baseOffset! });
    }
    return out;
  } finally {
    await producer.disconnect();
  }
}

describe("fault suite: poison records in the sinks' topic, under concurrent writers", () => {
  const suite = useRig({ sinks: { postgres: { errors: { tolerance: "all" } }, mariadb: { errors: { tolerance: "none" } } } });

  it("dead-letters them in the sink that tolerates them, stops the other at each one until its offsets are set past it, and loses or doubles nothing", async () => {
    const rig = suite.rig();
    const topic = rig.topics.items;
    const sink = rig.connectors.mariadb;
    let written: { at: string; offset: string }[] = [];
    const fault: Fault & { poison: string[] } = {
      poison: [],
      begin: async (r) => {
        written = await writePoison(r, topic);
        fault.poison.push(...written.map((w) => w.at));
      },
      windowMs: 2000,
      end: async (r) => {
        for (const [i, { at, offset }] of written.entries()) {
          await waitFor(async () => (await r.daemon.status(sink))?.state === "failed", { timeoutMs: 60_000, message: `${sink} to stop at ${at}` });
          const { lastError } = (await r.daemon.status(sink))!;
          expect(lastError!.code).toBe(POISON[i]!.code);
          expect(isErrorCode(lastError!.code) && ERROR_CATALOGUE[lastError!.code].category).toBe("data");
          expect(lastError!.message).toContain(`connector "${sink}": stopped at record ${at}`);
          const next = String(BigInt(offset) + 1n);
          expect(lastError!.message).toContain(`--topic ${topic} --partition 0 --offset ${next} --force`);
          const res = await fetch(`${r.daemon.adminUrl}/connectors/${sink}/offsets?force=true`, {
            method: "PUT",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ offsets: [{ topic, partition: 0, offset: next }] }),
          });
          expect(res.status, await res.clone().text()).toBe(200);
        }
      },
    };
    const result = await runScenario(rig, suite.writers(), "poison records", fault);

    // the tolerant sink never left running, and holds the poison in its dead-letter topic with the cause
    expect(result.states[rig.connectors.postgres]).toEqual(["running"]);
    expect(result.states[sink]).toContain("failed");
    const dead = await readTopic(rig.kafka.brokers, `_liberator_dlq.${rig.connectors.postgres}`, { expect: POISON.length });
    expect(dead.map((m) => m.value)).toEqual(POISON.map((p) => p.value));
    expect(dead.map((m) => Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, String(v)])))).toEqual(
      written.map(({ offset }, i): unknown =>
        expect.objectContaining({
          "liberator.error.code": POISON[i]!.code,
          "liberator.error.connector": rig.connectors.postgres,
          "liberator.original.topic": topic,
          "liberator.original.partition": "0",
          "liberator.original.offset": offset,
        }),
      ),
    );
    expect(result.comparison.undecodable).toEqual(fault.poison);
  });
});
