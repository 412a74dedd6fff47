/**
 * The three requests of Kafka's own hanging-transaction tooling (KIP-664: `kafka-transactions.sh
 * find-hanging` and `abort`) that kafkajs has no method for, encoded with kafkajs's own protocol
 * encoder and sent over an admin's connections (its `sendRequest`, patches/kafkajs+2.2.4.patch).
 * All three are flexible versions: the request header's tagged fields open the body (as kafkajs's
 * own flexible requests do it), the response header's open the response.
 */
import { createRequire } from "node:module";
import type { Admin } from "kafkajs";

interface Encoder {
  writeInt8(v: number): Encoder;
  writeInt16(v: number): Encoder;
  writeInt32(v: number): Encoder;
  writeInt64(v: bigint): Encoder;
  writeBoolean(v: boolean): Encoder;
  writeUVarIntString(v: string): Encoder;
  /** Empty: no tagged fields. */
  writeUVarIntBytes(): Encoder;
  writeUVarIntArray(items: Encoder[]): Encoder;
}
interface Decoder {
  readInt16(): number;
  readInt32(): number;
  readInt64(): bigint;
  readUVarIntString(): string | null;
  readUVarIntArray<T>(read: (d: Decoder) => T): T[] | null;
  readTaggedFields(): void;
}
interface ProtocolRequest<T> {
  request: { apiKey: number; apiVersion: number; apiName: string; encode(): Promise<Encoder> };
  response: { decode(raw: Buffer): Promise<T>; parse(data: T): Promise<T> };
}

const require = createRequire(import.meta.url);
const EncoderClass = require("kafkajs/src/protocol/encoder") as new () => Encoder;
const DecoderClass = require("kafkajs/src/protocol/decoder") as new (raw: Buffer) => Decoder;
const protocolErrors = require("kafkajs/src/protocol/error") as { createErrorFromCode: (code: number) => Error & { type: string } };

/** The admin of runtime/kafka/admin.ts, with the method the kafkajs patch adds. */
type SendingAdmin = Admin & { sendRequest<T>(to: { nodeId?: number; transactionalId?: string; request: ProtocolRequest<T> }): Promise<T> };

const WRITE_TXN_MARKERS = 27;
const DESCRIBE_PRODUCERS = 61;
const LIST_TRANSACTIONS = 66;

const encoder = () => new EncoderClass();
const array = <T>(items: readonly T[], write: (e: Encoder, item: T) => Encoder) => items.map((item) => write(encoder(), item));
const readArray = <T>(d: Decoder, read: (d: Decoder) => T): T[] => {
  const out = d.readUVarIntArray((inner) => {
    const item = read(inner);
    inner.readTaggedFields();
    return item;
  });
  return out ?? [];
};

function flexible<T>(apiKey: number, apiVersion: number, apiName: string, body: (e: Encoder) => Encoder, decode: (d: Decoder) => T): ProtocolRequest<T> {
  return {
    request: { apiKey, apiVersion, apiName, encode: async () => body(encoder().writeUVarIntBytes()).writeUVarIntBytes() },
    response: {
      decode: async (raw) => {
        const d = new DecoderClass(raw);
        d.readTaggedFields();
        return decode(d);
      },
      parse: async (data) => data,
    },
  };
}

/** A non-zero error code as kafkajs's error of that code (its `type` names it, e.g. CLUSTER_AUTHORIZATION_FAILED). */
export function kafkaError(code: number): (Error & { type: string }) | undefined {
  return code === 0 ? undefined : protocolErrors.createErrorFromCode(code);
}

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface ProducerState {
  producerId: bigint;
  producerEpoch: number;
  lastTimestamp: bigint;
  coordinatorEpoch: number;
  /** -1 when no transaction of the producer is open on the partition. */
  currentTxnStartOffset: bigint;
}

export interface PartitionProducers {
  topic: string;
  partition: number;
  errorCode: number;
  producers: ProducerState[];
}

/** The producers a partition's leader keeps state for, with the transaction each has open there. */
export async function describeProducers(admin: Admin, nodeId: number, topics: readonly TopicPartitions[]): Promise<PartitionProducers[]> {
  const request = flexible(
    DESCRIBE_PRODUCERS,
    0,
    "DescribeProducers",
    (e) => e.writeUVarIntArray(array(topics, (t, { topic, partitions }) => t.writeUVarIntString(topic).writeUVarIntArray(array(partitions, (p, i) => p.writeInt32(i))).writeUVarIntBytes())),
    (d) => {
      d.readInt32(); // throttle time
      return readArray(d, (t) => {
        const topic = t.readUVarIntString()!;
        return readArray(t, (p): PartitionProducers => {
          const partition = p.readInt32();
          const errorCode = p.readInt16();
          p.readUVarIntString(); // error message
          const producers = readArray(p, (s): ProducerState => {
            const producerId = s.readInt64();
            const producerEpoch = s.readInt32();
            s.readInt32(); // last sequence
            return { producerId, producerEpoch, lastTimestamp: s.readInt64(), coordinatorEpoch: s.readInt32(), currentTxnStartOffset: s.readInt64() };
          });
          return { topic, partition, errorCode, producers };
        });
      }).flat();
    },
  );
  return (admin as SendingAdmin).sendRequest({ nodeId, request });
}

export interface TransactionListing {
  transactionalId: string;
  producerId: bigint;
  state: string;
}

/** The transactions a broker coordinates whose producer is one of `producerIds`. */
export async function listTransactions(admin: Admin, nodeId: number, producerIds: readonly bigint[]): Promise<{ errorCode: number; transactions: TransactionListing[] }> {
  const request = flexible(
    LIST_TRANSACTIONS,
    0,
    "ListTransactions",
    (e) => e.writeUVarIntArray([]).writeUVarIntArray(array(producerIds, (p, id) => p.writeInt64(id))),
    (d) => {
      d.readInt32(); // throttle time
      const errorCode = d.readInt16();
      d.readUVarIntArray((s) => s.readUVarIntString()); // unknown state filters
      const transactions = readArray(d, (t): TransactionListing => ({ transactionalId: t.readUVarIntString()!, producerId: t.readInt64(), state: t.readUVarIntString()! }));
      return { errorCode, transactions };
    },
  );
  return (admin as SendingAdmin).sendRequest({ nodeId, request });
}

export interface TransactionMarker {
  topic: string;
  partition: number;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
}

/** Writes an abort marker for each open transaction, at the leader of its partition (needs ClusterAction). Returns each partition's error code. */
export async function writeAbortMarkers(admin: Admin, nodeId: number, markers: readonly TransactionMarker[]): Promise<{ topic: string; partition: number; errorCode: number }[]> {
  const request = flexible(
    WRITE_TXN_MARKERS,
    1,
    "WriteTxnMarkers",
    (e) =>
      e.writeUVarIntArray(
        array(markers, (m, marker) =>
          m
            .writeInt64(marker.producerId)
            .writeInt16(marker.producerEpoch)
            .writeBoolean(false) // abort
            .writeUVarIntArray([encoder().writeUVarIntString(marker.topic).writeUVarIntArray([encoder().writeInt32(marker.partition)]).writeUVarIntBytes()])
            .writeInt32(marker.coordinatorEpoch)
            .writeUVarIntBytes(),
        ),
      ),
    (d) =>
      readArray(d, (m) => {
        m.readInt64(); // producer id
        return readArray(m, (t) => {
          const topic = t.readUVarIntString()!;
          return readArray(t, (p) => ({ topic, partition: p.readInt32(), errorCode: p.readInt16() }));
        }).flat();
      }).flat(),
  );
  return (admin as SendingAdmin).sendRequest({ nodeId, request });
}
