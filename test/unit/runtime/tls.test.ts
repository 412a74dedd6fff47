import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded } from "kafkajs";
import { describe, expect, it } from "vitest";
import { databaseConnection } from "../../../src/runtime/config/fields.js";
import { mysqlOptions } from "../../../src/runtime/db/mysql.js";
import { pgOptions } from "../../../src/runtime/db/postgres.js";
import { ErrorCode, toLiberatorError } from "../../../src/runtime/errors.js";
import { classifyTlsError, nodeTlsOptions } from "../../../src/runtime/tls.js";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
const connection = (ssl: unknown) => databaseConnection(3306).parse({ user: "u", ssl });
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("connection.ssl", () => {
  it("verifies the certificate and the host name unless told not to", () => {
    expect(connection({ ca: PEM }).ssl).toEqual({ ca: PEM, rejectUnauthorized: true, verifyHostname: true });
    expect(nodeTlsOptions(connection({ ca: PEM }).ssl)).toEqual({ ca: PEM, rejectUnauthorized: true });
    expect(nodeTlsOptions(connection(true).ssl)).toEqual({});
    expect(nodeTlsOptions(connection(false).ssl)).toBeUndefined();
    expect(nodeTlsOptions(connection({ ca: PEM, verifyHostname: false }).ssl)?.checkServerIdentity).toBeTypeOf("function");
  });

  it("asks mysql2 to check the host name, which it does not by default; pg gets Node's options", () => {
    expect(mysqlOptions(connection({ ca: PEM })).ssl).toMatchObject({ ca: PEM, rejectUnauthorized: true, verifyIdentity: true });
    expect(mysqlOptions(connection(true)).ssl).toMatchObject({ rejectUnauthorized: true, verifyIdentity: true });
    expect(mysqlOptions(connection({ ca: PEM, verifyHostname: false })).ssl).toMatchObject({ verifyIdentity: false });
    expect(mysqlOptions(connection(undefined)).ssl).toBeUndefined();
    expect(pgOptions(connection({ ca: PEM })).ssl).toEqual({ ca: PEM, rejectUnauthorized: true });
  });

  it("refuses a path where PEM text belongs, and says how to read a file", () => {
    const result = databaseConnection(3306).safeParse({ user: "u", ssl: { ca: "/etc/ssl/ca.pem" } });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain("${file:");
  });
});

describe("TLS failures", () => {
  it("tell an untrusted certificate, another host name, an expired one and a server without TLS apart", () => {
    expect(classifyTlsError(withCode("self-signed certificate in certificate chain", "SELF_SIGNED_CERT_IN_CHAIN"))).toBe("untrusted");
    expect(classifyTlsError(withCode("unable to verify the first certificate", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"))).toBe("untrusted");
    expect(classifyTlsError(withCode("Hostname/IP does not match certificate's altnames", "ERR_TLS_CERT_ALTNAME_INVALID"))).toBe("hostname");
    expect(classifyTlsError(withCode("certificate has expired", "CERT_HAS_EXPIRED"))).toBe("expired");
    expect(classifyTlsError(new Error("The server does not support SSL connections"))).toBe("no-tls");
    expect(classifyTlsError(withCode("connect ECONNREFUSED", "ECONNREFUSED"))).toBeUndefined();
  });

  it("read mysql2's handshake error, which replaces Node's code by its own", () => {
    expect(classifyTlsError(withCode("self-signed certificate in certificate chain", "HANDSHAKE_SSL_ERROR"))).toBe("untrusted");
    expect(classifyTlsError(withCode("Hostname/IP does not match certificate's altnames: IP: 127.0.0.2 is not in the cert's list: 127.0.0.1", "HANDSHAKE_SSL_ERROR"))).toBe("hostname");
  });

  it("make a refused broker certificate a configuration error, though kafkajs wraps it as a connection error", () => {
    const refused = new KafkaJSConnectionError("Connection error: self-signed certificate in certificate chain", { code: "SELF_SIGNED_CERT_IN_CHAIN" });
    const spent = new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 3000 });
    const wrapped = new (KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error)(spent, { cause: spent });
    const err = toLiberatorError(wrapped, "c");
    expect([err.code, err.category, err.retriable]).toEqual([ErrorCode.KAFKA_TLS_FAILED, "configuration", false]);
    expect(err.describe()).toContain("kafka.ssl.ca");
  });
});
