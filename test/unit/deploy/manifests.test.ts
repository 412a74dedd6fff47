import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigMap, Secret, Service } from "kubernetes-models/v1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import "../../../src/connectors.js";
import { parseConfig, type LoadedConfig } from "../../../src/runtime/config/load.js";

const dir = join(import.meta.dirname, "../../../deploy/k8s");

/**
 * The Kubernetes kinds the manifests may use, each with its OpenAPI schema (Kubernetes 1.27).
 * deploy/k8s/autoscaling/ has a test of its own (test/unit/governance/autoscaling.test.ts).
 */
const MODELS: Record<string, { new (data: never): { validate(): void } }> = {
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
};

interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: Record<string, unknown>;
}

const manifests: Manifest[] = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((doc) => {
      expect(doc.errors, file).toEqual([]);
      return { file, ...(doc.toJS() as Omit<Manifest, "file">) };
    }),
  );

/** A ConfigMap's connectors.yaml as `liberator run` reads it, with every ${file:} of the Secrets given. */
function loadEmbeddedConfig(text: string): LoadedConfig {
  const secrets = mkdtempSync(join(tmpdir(), "liberator-k8s-secrets-"));
  for (const secret of manifests.filter((m) => m.kind === "Secret")) {
    for (const [key, value] of Object.entries(secret.stringData ?? {})) writeFileSync(join(secrets, key), value);
  }
  const file = join(mkdtempSync(join(tmpdir(), "liberator-k8s-")), "connectors.yaml");
  return parseConfig(text.replaceAll("/etc/liberator/secrets/", `${secrets}/`), file, { env: { POD_NAME: "liberator-7c9f8-abcde" } });
}

type Container = { name: string; env?: { name: string; value?: string }[]; readinessProbe?: { httpGet?: { path: string } }; livenessProbe?: { httpGet?: { path: string } } };
type PodSpec = { terminationGracePeriodSeconds?: number; containers: Container[]; volumes?: { configMap?: { name: string } }[] };
const podSpecOf = (m: Manifest) => (m.spec as { template: { spec: PodSpec } }).template.spec;

describe("Kubernetes manifests in deploy/k8s", () => {
  it("are all of kinds with a known schema", () => {
    expect(manifests.length).toBeGreaterThanOrEqual(10);
    for (const m of manifests) expect(Object.keys(MODELS), `${m.file}: ${m.apiVersion} ${m.kind}`).toContain(`${m.apiVersion}/${m.kind}`);
  });

  it.each(manifests.map((m) => [`${m.file}: ${m.kind} ${m.metadata.name}`, m] as const))("%s is valid against the Kubernetes OpenAPI schema", (_, m) => {
    const { file: _file, ...object } = m;
    const Model = MODELS[`${m.apiVersion}/${m.kind}`]!;
    expect(() => new Model(object as never).validate()).not.toThrow();
  });

  it("hold connectors.yaml files that liberator accepts, every ${file:} secret present in a Secret", () => {
    const configs = manifests.filter((m) => m.kind === "ConfigMap" && m.data?.["connectors.yaml"]);
    expect(configs.length).toBeGreaterThanOrEqual(2);
    for (const m of configs) {
      const config = loadEmbeddedConfig(m.data!["connectors.yaml"]!);
      // probes and Prometheus reach the admin API from outside the pod
      expect(config.root.admin.host, m.metadata.name).toBe("0.0.0.0");
      expect(config.connectors.length, m.metadata.name).toBeGreaterThan(0);
    }
  });

  it("give every pod running liberator probes on /healthz and /readyz and more grace than its shutdown.gracePeriodMs", () => {
    const workloads = manifests.filter((m) => (m.kind === "Deployment" || m.kind === "StatefulSet") && podSpecOf(m).containers.some((c) => c.name === "liberator"));
    expect(workloads.map((m) => m.metadata.name).sort()).toEqual(["legacy-shop", "liberator"]);
    for (const m of workloads) {
      const pod = podSpecOf(m);
      const container = pod.containers.find((c) => c.name === "liberator")!;
      expect(container.livenessProbe?.httpGet?.path).toBe("/healthz");
      expect(container.readinessProbe?.httpGet?.path).toBe("/readyz");
      const configMap = pod.volumes?.find((v) => v.configMap)?.configMap?.name;
      const config = loadEmbeddedConfig(manifests.find((c) => c.kind === "ConfigMap" && c.metadata.name === configMap)!.data!["connectors.yaml"]!);
      expect((pod.terminationGracePeriodSeconds ?? 30) * 1000, m.metadata.name).toBeGreaterThan(config.root.shutdown.gracePeriodMs);
      expect(container.env?.find((e) => e.name === "LIBERATOR_CONFIG")?.value).toBe("/etc/liberator/config/connectors.yaml");
    }
  });

  it("run the shared workers in cluster mode, on a Redis that never evicts", () => {
    const config = loadEmbeddedConfig(manifests.find((m) => m.metadata.name === "liberator-config")!.data!["connectors.yaml"]!);
    expect(config.root.cluster).toMatchObject({ redis: expect.stringMatching(/@liberator-redis:6379/), workerId: "liberator-7c9f8-abcde" });
    const redis = manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === "liberator-redis")!;
    expect(JSON.stringify(redis.spec)).toContain("--maxmemory-policy noeviction");
  });
});
