/**
 * TLS as every connection configures it (`connection.ssl` of a database connector, `kafka.ssl`):
 * what the config (config/fields.ts, sslSetting) becomes for Node's tls.connect, and what a failed handshake means.
 */
import type { ConnectionOptions } from "node:tls";
import type { DatabaseConnection } from "./config/fields.js";

export type SslSetting = DatabaseConnection["ssl"];

/** For Node's tls.connect (pg, kafkajs): undefined means no TLS. */
export function nodeTlsOptions(ssl: SslSetting): ConnectionOptions | undefined {
  if (ssl === undefined || ssl === false) return undefined;
  if (ssl === true) return {};
  const { verifyHostname, ...rest } = ssl;
  const options: ConnectionOptions = { ...definedOnly(rest) };
  if (!verifyHostname) options.checkServerIdentity = () => undefined;
  return options;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Why a TLS handshake failed, for an error that says what to change:
 * - untrusted: the certificate chain does not lead to a CA we trust (wrong or missing `ca`);
 * - hostname: a trusted certificate for another name than the one connected to;
 * - expired: the certificate is out of its validity period;
 * - no-tls: the server does not speak TLS on that port (or the client was told not to).
 */
export type TlsFailure = "untrusted" | "hostname" | "expired" | "no-tls";

const BY_CODE = new Map<string, TlsFailure>([
  ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "untrusted"],
  ["UNABLE_TO_GET_ISSUER_CERT", "untrusted"],
  ["UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "untrusted"],
  ["SELF_SIGNED_CERT_IN_CHAIN", "untrusted"],
  ["DEPTH_ZERO_SELF_SIGNED_CERT", "untrusted"],
  ["CERT_SIGNATURE_FAILURE", "untrusted"],
  ["CERT_UNTRUSTED", "untrusted"],
  ["CERT_REJECTED", "untrusted"],
  ["INVALID_CA", "untrusted"],
  ["ERR_TLS_CERT_ALTNAME_INVALID", "hostname"],
  ["HOSTNAME_MISMATCH", "hostname"],
  ["CERT_HAS_EXPIRED", "expired"],
  ["CERT_NOT_YET_VALID", "expired"],
  // mysql2: the server's handshake offers no TLS
  ["HANDSHAKE_NO_SSL_SUPPORT", "no-tls"],
  ["ERR_SSL_WRONG_VERSION_NUMBER", "no-tls"],
]);

/** pg says it in words only. */
const NO_TLS_TEXT = /server does not support SSL/i;

/** mysql2 replaces Node's code of a failed handshake by its own (HANDSHAKE_SSL_ERROR), keeping Node's message. */
const BY_TEXT: [RegExp, TlsFailure][] = [
  [/altnames|does not match certificate/i, "hostname"],
  [/expired|not yet valid/i, "expired"],
  [/self[- ]signed|unable to (?:verify|get)|certificate signature|untrusted|unknown ca/i, "untrusted"],
];

/** The failure of the error or of what it wraps (`cause`, kafkajs's `originalError`); undefined when it is no TLS failure. */
export function classifyTlsError(err: unknown): TlsFailure | undefined {
  let e = err as { code?: unknown; message?: unknown; cause?: unknown; originalError?: unknown } | null | undefined;
  for (let depth = 0; e && typeof e === "object" && depth < 8; depth++) {
    if (typeof e.code === "string" && BY_CODE.has(e.code)) return BY_CODE.get(e.code);
    if (typeof e.message === "string" && NO_TLS_TEXT.test(e.message)) return "no-tls";
    if (e.code === "HANDSHAKE_SSL_ERROR" && typeof e.message === "string") {
      const text = e.message;
      const found = BY_TEXT.find(([re]) => re.test(text));
      if (found) return found[1];
    }
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return undefined;
}

/**
 * What to change for a TLS failure, `field` being the setting's path (`connection.ssl`, `kafka.ssl`)
 * and `host` the one it names (`connection.host`, `kafka.brokers`).
 */
export function tlsFix(failure: TlsFailure, field: string, host: string): string {
  switch (failure) {
    case "untrusted":
      return `set ${field}.ca to the PEM of the CA that signed the server's certificate (ca: \${file:/path/to/ca.pem})`;
    case "hostname":
      return `connect by a name the server's certificate lists (${host}), or have the certificate issued for the name used; ${field}.verifyHostname: false skips the check`;
    case "expired":
      return "renew the server's certificate (or check this machine's clock)";
    case "no-tls":
      return `turn TLS on at the server, or leave ${field} out if this connection may be plain`;
  }
}

/** The failure in a few words, for the message. */
export const TLS_FAILURE_TEXT: Record<TlsFailure, string> = {
  untrusted: "its TLS certificate is not signed by a trusted CA",
  hostname: "its TLS certificate is issued to another host name",
  expired: "its TLS certificate has expired or is not valid yet",
  "no-tls": "it does not accept TLS connections",
};
