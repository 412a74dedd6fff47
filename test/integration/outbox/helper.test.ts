/**
 * `liberator/outbox` inside the application's transaction: a bad event fails there, before the
 * commit; a good one is stored in the form the relay reads back exactly.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registrySchemas, writeOutboxEvent, writeOutboxEvents } from "../../../src/outbox.js";
import { OutboxRelay } from "../../../src/sources/outbox/relay.js";
import { testContext } from "../../acceptance/source-suite.js";
import { harness, mysqlConnection, pgClient } from "../../harness/index.js";
import { orderPlaced, outboxFixture, schemaFile, type Kind, type OutboxFixture } from "./fixtures.js";

const MEASUREMENT = {
  type: "record",
  name: "Measured",
  fields: [
    { name: "counter", type: "long" },
    { name: "blob", type: "bytes" },
    { name: "at", type: { type: "long", logicalType: "timestamp-micros" } },
  ],
};

/** The application's own driver connection, as it would hand it to the helper. */
const connect = (kind: Kind, fixture: OutboxFixture) => (kind === "postgres" ? pgClient(harness(), fixture.database) : mysqlConnection(harness(), fixture.database));

describe.each<Kind>(["postgres", "mariadb"])("writeOutboxEvent on %s", (kind) => {
  let fixture: OutboxFixture;
  beforeAll(async () => {
    fixture = await outboxFixture(kind, { events: { OrderPlaced: { schema: schemaFile(MEASUREMENT) } } });
  });
  afterAll(() => fixture.cleanup());

  it("refuses an invalid event inside the application's transaction, which then rolls back", async () => {
    const app = await fixture.app();
    await app.exec("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)");
    await app.exec("INSERT INTO accounts VALUES (1, 100)");
    await app.begin();
    await app.exec("UPDATE accounts SET balance = balance - 30 WHERE id = 1");
    const written = app.write({ ...orderPlaced(1, 1), payload: { orderId: 1, seq: 1, amount: "thirty" } });
    await expect(written).rejects.toMatchObject({
      code: "OUTBOX_PAYLOAD_INVALID",
      field: "amount",
      message: 'event "OrderPlaced" of Order 1: field "amount": "thirty" is not a valid decimal with scale 2',
    });
    await app.rollback();
    expect(await app.rows("SELECT balance FROM accounts")).toEqual([{ balance: 100 }]);
    expect(await fixture.pending()).toBe(0);
    await expect(app.write({ ...orderPlaced(1, 2), type: "OrderLost" })).rejects.toMatchObject({ code: "OUTBOX_EVENT_TYPE_UNKNOWN" });
    await app.close();
  });

  it("stores events in the JSON form the relay reads back to the same values", async () => {
    const event = { counter: 9007199254740993n, blob: Buffer.from([0, 255, 7]), at: "2024-02-29T23:59:59.999999Z" };
    const relay = new OutboxRelay(fixture.config(), testContext(fixture.name));
    const conn = await connect(kind, fixture);
    const ids = await writeOutboxEvents(
      conn,
      [
        { aggregateType: "Meter", aggregateId: 7n, type: "OrderPlaced", payload: event },
        { aggregateType: "Meter", aggregateId: 7n, type: "OrderPlaced", payload: { ...event, counter: 1 } },
      ],
      { schemas: { OrderPlaced: MEASUREMENT } },
    );
    expect(ids[1]).toBe(ids[0]! + 1);
    await relay.open(null);
    const batch = await relay.read();
    expect(batch.records.map((r) => r.value)).toEqual([event, { ...event, counter: 1n }]);
    expect(batch.records.map((r) => r.key)).toEqual(["7", "7"]);
    await relay.ack(batch.position);
    await relay.close();
    await conn.end();
  });

  it("takes the schemas from a schema registry by subject", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/subjects/meter-events/versions/latest") {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ subject: "meter-events", version: 1, id: 1, schema: JSON.stringify(MEASUREMENT) }));
      } else {
        res.statusCode = 404;
        res.end("{}");
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const schemas = registrySchemas({ url, subject: (type) => (type === "Measured" ? "meter-events" : type) });
    const conn = await connect(kind, fixture);
    const id = await writeOutboxEvent(conn, { aggregateType: "Meter", aggregateId: "m1", type: "Measured", payload: { counter: 1, blob: "", at: 0 } }, { schemas });
    expect(id).toBeGreaterThan(0);
    await expect(writeOutboxEvent(conn, { aggregateType: "Meter", aggregateId: "m1", type: "Other", payload: {} }, { schemas })).rejects.toMatchObject({
      code: "OUTBOX_EVENT_TYPE_UNKNOWN",
    });
    await conn.end();
    server.close();
  });
});
