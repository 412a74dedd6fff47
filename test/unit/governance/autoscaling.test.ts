import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigMap } from "kubernetes-models/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Metrics } from "../../../src/runtime/metrics.js";

const dir = join(import.meta.dirname, "../../../deploy/k8s/autoscaling");
const load = <T = Record<string, unknown>>(file: string) => parse(readFileSync(join(dir, file), "utf8")) as T;

interface HpaDoc {
  spec: {
    minReplicas: number;
    maxReplicas: number;
    scaleTargetRef: { name: string };
    metrics: { external: { metric: { name: string }; target: { averageValue: string } } }[];
    behavior: unknown;
  };
}
interface ScaledObjectDoc {
  apiVersion: string;
  kind: string;
  spec: {
    minReplicaCount: number;
    maxReplicaCount: number;
    scaleTargetRef: { name: string };
    triggers: { type: string; metadata: { query: string; threshold: string } }[];
    advanced: { horizontalPodAutoscalerConfig: { behavior: object } };
  };
}
const LAG_METRIC = "liberator_sink_consumer_lag";

describe("lag-based autoscaling manifests", () => {
  it("scale on a metric Liberator really exports, per connector and partition", async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.setConsumerLag("sink-a", "t", 0, 7);
    expect(await metrics.registry.metrics()).toMatch(new RegExp(`^${LAG_METRIC}\\{connector="sink-a",topic="t",partition="0"\\} 7$`, "m"));
  });

  it("the HPA is a valid autoscaling/v2 object with min/max replicas and stabilization windows both ways", () => {
    const hpa = new HorizontalPodAutoscaler(load("hpa.yaml"));
    hpa.validate();
    const spec = hpa.spec!;
    expect(spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(spec.maxReplicas).toBeGreaterThan(spec.minReplicas!);
    expect(spec.behavior?.scaleUp?.stabilizationWindowSeconds).toBeGreaterThan(0);
    expect(spec.behavior?.scaleDown?.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
    expect(spec.metrics?.[0]?.external?.metric.name).toBe("liberator_sink_consumer_lag_records");
  });

  it("the prometheus-adapter rule is a valid ConfigMap that serves the HPA's metric from the lag series", () => {
    const map = new ConfigMap(load("prometheus-adapter-rules.yaml"));
    map.validate();
    const rules = parse(map.data!["config.yaml"]!) as { externalRules: { seriesQuery: string; name: { as: string }; metricsQuery: string }[] };
    const rule = rules.externalRules.find((r) => r.name.as === load<HpaDoc>("hpa.yaml").spec.metrics[0]!.external.metric.name);
    expect(rule?.seriesQuery).toContain(LAG_METRIC);
    expect(rule?.metricsQuery).toMatch(new RegExp(`sum by \\(namespace\\) \\(${LAG_METRIC}\\{`));
  });

  it("the KEDA ScaledObject has the same bounds, and its HPA behaviour validates as Kubernetes' own type", () => {
    const scaled = load<ScaledObjectDoc>("keda-scaledobject.yaml");
    expect(scaled.apiVersion).toBe("keda.sh/v1alpha1");
    expect(scaled.kind).toBe("ScaledObject");
    const hpa = load<HpaDoc>("hpa.yaml");
    expect(scaled.spec.minReplicaCount).toBe(hpa.spec.minReplicas);
    expect(scaled.spec.maxReplicaCount).toBe(hpa.spec.maxReplicas);
    expect(scaled.spec.scaleTargetRef.name).toBe(hpa.spec.scaleTargetRef.name);
    const trigger = scaled.spec.triggers[0]!;
    expect(trigger.type).toBe("prometheus");
    expect(trigger.metadata.query).toContain(`sum(${LAG_METRIC}{`);
    expect(Number(trigger.metadata.threshold)).toBe(Number(hpa.spec.metrics[0]!.external.target.averageValue));
    // kubernetes-models has no KEDA types; the behaviour block is HorizontalPodAutoscalerBehavior
    const behavior = scaled.spec.advanced.horizontalPodAutoscalerConfig.behavior;
    new HorizontalPodAutoscaler({ metadata: { name: "keda" }, spec: { ...new HorizontalPodAutoscaler(load("hpa.yaml")).spec!, behavior } }).validate();
    expect(behavior).toEqual(hpa.spec.behavior);
  });
});
