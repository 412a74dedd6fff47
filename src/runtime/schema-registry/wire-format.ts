/**
 * Confluent's wire format: magic byte 0, the schema id as a 4-byte big-endian int, then the Avro
 * binary body. Every Confluent, Apicurio (in Confluent mode) and Karapace deserializer reads it.
 */
import { DataError, ErrorCode } from "../errors.js";

export const MAGIC_BYTE = 0;
export const HEADER_SIZE = 5;

export function writeHeader(buf: Buffer, offset: number, schemaId: number): void {
  buf[offset] = MAGIC_BYTE;
  buf.writeInt32BE(schemaId, offset + 1);
}

/** The schema id of a framed payload; DataError when it is not one. */
export function readSchemaId(buf: Buffer): number {
  if (buf.length < HEADER_SIZE) {
    throw new DataError(ErrorCode.WIRE_FORMAT_INVALID, `a ${buf.length}-byte payload is too short for the Confluent wire format (5-byte header)`);
  }
  if (buf[0] !== MAGIC_BYTE) {
    throw new DataError(ErrorCode.WIRE_FORMAT_INVALID, `unknown magic byte ${buf[0]} (the Confluent wire format starts with 0)`, {
      fix: "the topic holds records that were not written with a schema registry serializer",
    });
  }
  return buf.readInt32BE(1);
}
