/**
 * Client quotas (KIP-546) over the Kafka protocol. kafkajs has no client-quota API, and the
 * maintained clients that have one need Node 22. So the two requests (AlterClientQuotas, key 49,
 * and DescribeClientQuotas, key 48, version 0, which every broker since 2.6 and Kafka 4 take) are
 * encoded here with kafkajs's own encoder and sent over a kafkajs broker connection
 * (kafka/cluster.ts), which brings SASL and TLS as configured.
 */
import { createRequire } from "node:module";
import type { Kafka } from "kafkajs";
import { ErrorCode, LiberatorError } from "../errors.js";
import { connectCluster, type ProtocolBroker } from "./cluster.js";
import { describeKafkaConnectError } from "./connect-errors.js";

const require = createRequire(import.meta.url);

interface Encoder {
  writeInt8(v: number): Encoder;
  writeBoolean(v: boolean): Encoder;
  writeDouble(v: number): Encoder;
  writeString(v: string | null): Encoder;
  writeArray(items: Encoder[]): Encoder;
}
interface Decoder {
  readInt16(): number;
  readInt32(): number;
  readDouble(): number;
  readBoolean(): boolean;
  readString(): string | null;
  readArray<T>(reader: (d: Decoder) => T): T[];
}
const EncoderClass = require("kafkajs/src/protocol/encoder.js") as new () => Encoder;
const DecoderClass = require("kafkajs/src/protocol/decoder.js") as new (buffer: Buffer) => Decoder;

const ALTER_CLIENT_QUOTAS = 49;
const DESCRIBE_CLIENT_QUOTAS = 48;
const CLIENT_ID = "client-id";

/** The quotas of one client id: per quota key (e.g. `producer_byte_rate`), a value to set, or null to remove it. */
export interface ClientQuotaEntry {
  clientId: string;
  values: Record<string, number | null>;
}

/** A connected controller broker of the client's cluster. */
async function brokerConnection(kafka: Kafka): Promise<{ broker: ProtocolBroker; close: () => Promise<void> }> {
  const cluster = await connectCluster(kafka);
  if (!cluster) {
    throw new LiberatorError(ErrorCode.QUOTAS_UNSUPPORTED, "this kafkajs version does not expose its cluster: client quotas cannot be sent", {
      fix: "keep kafkajs at 2.2.x, or set the quotas with kafka-configs.sh --alter --entity-type clients",
    });
  }
  try {
    return { broker: await cluster.findControllerBroker(), close: () => cluster.disconnect() };
  } catch (err) {
    await cluster.disconnect().catch(() => undefined);
    throw describeKafkaConnectError(err, "check kafka.brokers and the credentials");
  }
}

async function send<T>(kafka: Kafka, apiKey: number, apiName: string, body: Encoder, decode: (d: Decoder) => T): Promise<T> {
  const connection = await brokerConnection(kafka);
  const { broker } = connection;
  try {
    const range = broker.versions?.[apiKey];
    if (!range || range.minVersion > 0) {
      throw new LiberatorError(ErrorCode.QUOTAS_UNSUPPORTED, `the broker does not take ${apiName} version 0 (Kafka 2.6 or later does)`, {
        fix: "set the quotas with kafka-configs.sh --alter --entity-type clients",
      });
    }
    return (await broker.connectionPool.send({
      request: { apiKey, apiVersion: 0, apiName, encode: async () => body },
      response: { decode: async (raw: Buffer) => decode(new DecoderClass(raw)), parse: async (data: T) => data },
    })) as T;
  } finally {
    await connection.close();
  }
}

function quotaError(code: number, message: string | null, what: string): LiberatorError {
  // 31 CLUSTER_AUTHORIZATION_FAILED
  const fix = code === 31 ? "run it as a principal allowed to ALTER_CONFIGS on the cluster (a Kafka admin), e.g. with --admin-user" : undefined;
  return new LiberatorError(ErrorCode.QUOTAS_FAILED, `${what}: Kafka error ${code}${message ? ` (${message})` : ""}`, fix ? { fix } : {});
}

/** Sets (or removes, for null) each connector's quotas; throws on the first entry the broker refuses. */
export async function alterClientQuotas(kafka: Kafka, quotas: readonly ClientQuotaEntry[]): Promise<void> {
  if (quotas.length === 0) return;
  // AlterClientQuotas v0 => [entries [entity type name] [ops key value remove]] validate_only
  const body = new EncoderClass()
    .writeArray(
      quotas.map((q) =>
        new EncoderClass()
          .writeArray([new EncoderClass().writeString(CLIENT_ID).writeString(q.clientId)])
          .writeArray(Object.entries(q.values).map(([k, v]) => new EncoderClass().writeString(k).writeDouble(v ?? 0).writeBoolean(v === null))),
      ),
    )
    .writeBoolean(false);
  const entries = await send(kafka, ALTER_CLIENT_QUOTAS, "AlterClientQuotas", body, (d) => {
    d.readInt32(); // throttle_time_ms
    return d.readArray((e) => {
      const code = e.readInt16();
      const message = e.readString();
      const entity = e.readArray((x) => ({ type: x.readString(), name: x.readString() }));
      return { code, message, entity };
    });
  });
  const failed = entries.find((e) => e.code !== 0);
  if (failed) throw quotaError(failed.code, failed.message, `setting the quotas of client id "${failed.entity[0]?.name ?? "?"}"`);
}

/** The quotas Kafka holds for each client id (exact match). */
export async function describeClientQuotas(kafka: Kafka, clientIds: readonly string[]): Promise<Map<string, Record<string, number>>> {
  const out = new Map<string, Record<string, number>>();
  for (const clientId of clientIds) {
    // DescribeClientQuotas v0 => [components entity_type match_type(0 = exact) match] strict
    const body = new EncoderClass().writeArray([new EncoderClass().writeString(CLIENT_ID).writeInt8(0).writeString(clientId)]).writeBoolean(true);
    const answer = await send(kafka, DESCRIBE_CLIENT_QUOTAS, "DescribeClientQuotas", body, (d) => {
      d.readInt32(); // throttle_time_ms
      const code = d.readInt16();
      const message = d.readString();
      const entries = d.readArray((e) => {
        e.readArray((x) => ({ type: x.readString(), name: x.readString() }));
        return e.readArray((v) => [v.readString() ?? "", v.readDouble()] as const);
      });
      return { code, message, entries };
    });
    if (answer.code !== 0) throw quotaError(answer.code, answer.message, `reading the quotas of client id "${clientId}"`);
    out.set(clientId, Object.fromEntries(answer.entries.flat()));
  }
  return out;
}
