import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { makeTempDir, removeDir, run } from "./process.js";

/**
 * Certificates made at test time with openssl, in a fresh temporary folder: a CA, a server
 * certificate it signed for 127.0.0.1 and localhost, the same key and chain as a PKCS12 keystore
 * (for Kafka), and a second CA that signed nothing the servers use (the "wrong CA" of a test).
 */
export interface Certificates {
  readonly dir: string;
  readonly caFile: string;
  /** The CA certificate, PEM, as a client's `ssl.ca` takes it. */
  readonly caPem: string;
  /** A CA that did not sign the servers' certificate. */
  readonly otherCaPem: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Server key and certificate chain, PKCS12, protected by `keystorePassword`. */
  readonly keystoreFile: string;
  readonly keystorePassword: string;
  remove(): Promise<void>;
}

const DAYS = "2";

async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", DAYS, "-subj", `/CN=Liberator test ${name}`]);
  return { cert, key };
}

export async function makeCertificates(): Promise<Certificates> {
  const dir = await makeTempDir("certs");
  try {
    const ca = await makeCa(dir, "ca");
    const other = await makeCa(dir, "other-ca");
    const keyFile = path.join(dir, "server.key");
    const csr = path.join(dir, "server.csr");
    const certFile = path.join(dir, "server.pem");
    const ext = path.join(dir, "server.ext");
    fs.writeFileSync(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    await run("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", csr, "-subj", "/CN=localhost"]);
    await run("openssl", ["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-out", certFile, "-days", DAYS, "-extfile", ext]);
    const keystoreFile = path.join(dir, "server.p12");
    const keystorePassword = randomBytes(9).toString("hex");
    await run("openssl", ["pkcs12", "-export", "-in", certFile, "-inkey", keyFile, "-certfile", ca.cert, "-name", "server", "-out", keystoreFile, "-passout", `pass:${keystorePassword}`]);
    return {
      dir,
      caFile: ca.cert,
      caPem: fs.readFileSync(ca.cert, "utf8"),
      otherCaPem: fs.readFileSync(other.cert, "utf8"),
      certFile,
      keyFile,
      keystoreFile,
      keystorePassword,
      remove: () => removeDir(dir),
    };
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
}
