import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
} from "kafkajs";
import { describe, expect, it } from "vitest";
import { classifyMysqlError, classifyPostgresError } from "../../../src/runtime/db/errors.js";
import { ERROR_CATALOGUE, ErrorCode, LiberatorError, toLiberatorError } from "../../../src/runtime/errors.js";
import { classifyKafkaError } from "../../../src/runtime/kafka/errors.js";

/** kafkajs's constructors take options its type declarations leave out. */
const nonRetriable = (cause: Error) => new (KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error)(cause, { cause });
const protocol = (type: string, retriable: boolean) => new KafkaJSProtocolError({ message: type, type, code: 0, retriable } as unknown as Error);
const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });
const mysqlError = (errno: number, code = "ER_X", fatal = false) => Object.assign(new Error(`mysql ${errno}`), { errno, code, fatal });

describe("the error catalogue", () => {
  it("gives every code a category, a description and a fix, and retries exactly the transient ones", () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect(entry.description.length, code).toBeGreaterThan(10);
      expect(entry.fix.length, code).toBeGreaterThan(5);
      expect(entry.retriable, code).toBe(entry.category === "transient");
    }
  });

  it("decides an error's category and retriable flag by its code", () => {
    const privilege = new LiberatorError(ErrorCode.BINLOG_PRIVILEGES_MISSING, "revoked");
    expect([privilege.category, privilege.retriable]).toEqual(["transient", true]);
    const table = new LiberatorError(ErrorCode.SINK_TABLE_MISSING, "no table");
    expect([table.category, table.retriable]).toEqual(["configuration", false]);
    expect(new LiberatorError(ErrorCode.WIRE_FORMAT_INVALID, "x").category).toBe("data");
  });
});

describe("Kafka errors, classified by cause", () => {
  it("sees a connection error under kafkajs's non-retriable wrappers as transient (a broker restart)", () => {
    const refused = new KafkaJSConnectionError("Connection error: connect ECONNREFUSED 127.0.0.1:9092");
    const spent = new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 3000 });
    const wrapped = nonRetriable(spent);
    expect((wrapped as KafkaJSNonRetriableError).retriable).toBe(false);
    expect(classifyKafkaError(wrapped)).toBe(ErrorCode.KAFKA_UNAVAILABLE);
    expect(toLiberatorError(wrapped).retriable).toBe(true);
  });

  it("takes leader moves, coordinators away and timeouts as transient", () => {
    for (const type of ["NOT_LEADER_FOR_PARTITION", "LEADER_NOT_AVAILABLE", "COORDINATOR_NOT_AVAILABLE", "NOT_COORDINATOR", "COORDINATOR_LOAD_IN_PROGRESS", "REQUEST_TIMED_OUT"]) {
      expect(classifyKafkaError(nonRetriable(protocol(type, true))), type).toBe(ErrorCode.KAFKA_UNAVAILABLE);
    }
    expect(classifyKafkaError(new KafkaJSRequestTimeoutError("Request Produce(key: 0, version: 7) timed out"))).toBe(ErrorCode.KAFKA_UNAVAILABLE);
  });

  it("keeps fencing, authentication, authorization and oversized records apart", () => {
    expect(classifyKafkaError(protocol("PRODUCER_FENCED", false))).toBe(ErrorCode.FENCED);
    expect(classifyKafkaError(new (KafkaJSSASLAuthenticationError as unknown as new (e: string) => Error)("SASL PLAIN authentication failed"))).toBe(ErrorCode.KAFKA_AUTH_FAILED);
    expect(classifyKafkaError(protocol("TOPIC_AUTHORIZATION_FAILED", false))).toBe(ErrorCode.KAFKA_NOT_AUTHORIZED);
    expect(classifyKafkaError(protocol("MESSAGE_TOO_LARGE", false))).toBe(ErrorCode.KAFKA_RECORD_REJECTED);
  });

  it("leaves what it does not know internal", () => {
    expect(classifyKafkaError(new KafkaJSNonRetriableError("Invalid topics array"))).toBe(ErrorCode.KAFKA_ERROR);
    expect(classifyKafkaError(new (KafkaJSError as unknown as new (e: string, o: { retriable: boolean }) => Error)("odd", { retriable: false }))).toBe(ErrorCode.KAFKA_ERROR);
  });
});

describe("database errors, one classifier per dialect", () => {
  it("reads PostgreSQL's SQLSTATEs: restarts and refusals pass, rows and tables do not", () => {
    for (const code of ["57P01", "57P02", "57P03", "53300", "08006", "08001"]) expect(classifyPostgresError(pgError(code)), code).toBe("connection");
    expect(classifyPostgresError(pgError("40P01"))).toBe("conflict");
    expect(classifyPostgresError(pgError("40001"))).toBe("conflict");
    expect(classifyPostgresError(pgError("55P03"))).toBe("conflict");
    expect(classifyPostgresError(pgError("42501"))).toBe("privilege");
    expect(classifyPostgresError(pgError("28P01"))).toBe("auth");
    expect(classifyPostgresError(pgError("42P01"))).toBe("table-missing");
    expect(classifyPostgresError(pgError("23505"))).toBe("data");
    expect(classifyPostgresError(pgError("42804"))).toBe("schema");
    expect(classifyPostgresError(new Error("Connection terminated unexpectedly"))).toBe("connection");
    expect(classifyPostgresError(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }))).toBe("connection");
  });

  it("reads MySQL/MariaDB errnos: shutdown, killed, too many connections and deadlocks pass", () => {
    for (const errno of [1053, 1927, 1040, 2013, 2006, 4031]) expect(classifyMysqlError(mysqlError(errno)), String(errno)).toBe("connection");
    expect(classifyMysqlError(Object.assign(new Error("server shutdown"), { code: "ER_SERVER_SHUTDOWN" }))).toBe("connection");
    expect(classifyMysqlError(Object.assign(new Error("Connection lost: The server closed the connection."), { code: "PROTOCOL_CONNECTION_LOST", fatal: true }))).toBe("connection");
    expect(classifyMysqlError(mysqlError(1213))).toBe("conflict");
    expect(classifyMysqlError(mysqlError(1205))).toBe("conflict");
    expect(classifyMysqlError(mysqlError(1227))).toBe("privilege");
    expect(classifyMysqlError(mysqlError(1142))).toBe("privilege");
    expect(classifyMysqlError(mysqlError(1045))).toBe("auth");
    expect(classifyMysqlError(mysqlError(1146))).toBe("table-missing");
    expect(classifyMysqlError(mysqlError(1062))).toBe("data");
  });

  it("turns a driver's error into the catalogue's code when no connector names it", () => {
    expect(toLiberatorError(mysqlError(1213)).code).toBe(ErrorCode.DB_CONFLICT);
    expect(toLiberatorError(pgError("57P01")).code).toBe(ErrorCode.CONNECTION_FAILED);
    expect(toLiberatorError(pgError("42501")).retriable).toBe(true);
    expect(toLiberatorError(new Error("something odd")).code).toBe(ErrorCode.INTERNAL);
  });
});
