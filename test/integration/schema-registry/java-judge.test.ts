import avsc from "avsc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTopics } from "../../../src/runtime/kafka/admin.js";
import type { SchemaService } from "../../../src/runtime/schema-registry/index.js";
import { uniqueName } from "../../harness/index.js";
import { readWithJava, serveRegistry, type JavaReading } from "../../support/java-avro.js";
import { kafkaClient, schemaService } from "../sql-types/round-trip.js";

/**
 * The judge itself: values no Avro decoder may accept, written by hand (plain avsc, no logical
 * type of ours), must each come back as an error naming the record; a valid one as Java renders it.
 */
describe("Apache Avro's Java library as the second judge", () => {
  const topic = uniqueName("judge");
  let service: SchemaService;
  let server: { url: string; close(): Promise<void> };
  let reading: JavaReading;
  const offsets: Record<string, number> = {};

  beforeAll(async () => {
    const kafka = kafkaClient();
    service = await schemaService(kafka);
    server = await serveRegistry(service.registry);
    const cases: [string, object, Buffer][] = [
      ["time of day past midnight", { type: "long", logicalType: "time-micros" }, avsc.Type.forSchema("long").toBuffer(86_400_000_000)],
      ["date in year 10000", { type: "int", logicalType: "date" }, avsc.Type.forSchema("int").toBuffer(2_932_897)],
      ["decimal past its precision", { type: "bytes", logicalType: "decimal", precision: 4, scale: 2 }, avsc.Type.forSchema("bytes").toBuffer(Buffer.from([0x01, 0xe2, 0x40]))],
      ["bytes after the record", { type: "record", name: "R", fields: [{ name: "n", type: "int" }] }, Buffer.concat([avsc.Type.forSchema("int").toBuffer(1), Buffer.from([7])])],
      ["timestamp", { type: "long", logicalType: "timestamp-micros" }, avsc.Type.forSchema("long").toBuffer(1_000_001)],
      ["double", { type: "double" }, avsc.Type.forSchema("double").toBuffer(0.1)],
    ];
    const messages = [];
    for (const [i, [name, schema, body]] of cases.entries()) {
      const id = await service.registry.register(`${topic}-${i}`, JSON.stringify(schema));
      const header = Buffer.alloc(5);
      header.writeInt32BE(id, 1);
      offsets[name] = i;
      messages.push({ key: null, value: Buffer.concat([header, body]) });
    }
    // a logical type the specification does not define, registered beside the others
    await service.registry.register(`${topic}-unknown`, JSON.stringify({ type: "long", logicalType: "time-nanos" }));
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages });
    await producer.disconnect();
    reading = await readWithJava({ registryUrl: server.url, topics: [topic] });
  });

  afterAll(async () => {
    await server?.close();
    await service?.close();
  });

  it("refuses values outside what their logical type means, and bytes left after a record", () => {
    const at = (name: string) => `${topic}/0@${offsets[name]}`;
    const errors = reading.errors.join("\n");
    expect(errors).toContain(`${at("time of day past midnight")}: DateTimeException`);
    expect(errors).toContain(`${at("date in year 10000")}: IllegalStateException: +10000-01-01 is outside years 0001-9999`);
    expect(errors).toContain(`${at("decimal past its precision")}: IllegalStateException: decimal 1234.56 has more than 4 digits`);
    expect(errors).toContain(`${at("bytes after the record")}: IOException: schema`);
  });

  it("refuses a registered schema whose logical type Avro 1.12 does not define", () => {
    expect(reading.errors.join("\n")).toContain(`subject ${topic}-unknown version 1: IllegalArgumentException: logical type "time-nanos" is not one Avro 1.12 defines`);
    expect(reading.schemas.map((s) => s.subject)).toContain(`${topic}-4`);
    expect(reading.errors).toHaveLength(5);
  });

  it("renders the valid ones as Java holds them: an Instant to the microsecond, a double by its bits", () => {
    expect(reading.records.map((r) => r.value)).toEqual(["1970-01-01T00:00:01.000001Z", "d3fb999999999999a"]);
  });
});
