import type { EnvVar, K8sObject } from "../../src/core/k8s";
import { container, find, pod } from "../helpers";

const scaleTargetRef = (hpa: K8sObject): Record<string, unknown> =>
  (hpa.spec as Record<string, Record<string, unknown>>).scaleTargetRef!;
import type { RuleCase } from "./cases";

/** Checks kube-score or kube-linter have and the pack adopted (docs/coverage.md, "kube-score over our own stacks"). */
export const KUBE_SCORE_CASES: RuleCase[] = [
  {
    rule: "duplicate-env-var",
    title: "a name set twice, the second value silently replacing the first (and an init container)",
    mutate: (o) => {
      const api = find(o, "Deployment", "api");
      const env: EnvVar[] = [
        { name: "LOG_LEVEL", value: "info" },
        { name: "DB_HOST", value: "postgres" },
        { name: "LOG_LEVEL", value: "debug" },
      ];
      container(api).env = env;
      pod(api).initContainers = [
        {
          name: "migrate",
          image: container(api).image,
          env: [
            { name: "A", value: "1" },
            { name: "A", value: "1" },
          ],
        },
      ];
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          "container 'api' sets env LOG_LEVEL 2 times (entries 1, 3); only the last one takes effect: keep one entry",
      },
      {
        kind: "Deployment",
        name: "api",
        message:
          "init container 'migrate' sets env A 2 times (entries 1, 2); only the last one takes effect: keep one entry",
      },
    ],
  },
  {
    rule: "duplicate-env-var",
    title: "distinct names, and the same name in two containers, are compliant",
    mutate: (o) => {
      const api = find(o, "Deployment", "api");
      container(api).env = [
        { name: "LOG_LEVEL", value: "info" },
        { name: "LOG_LEVEL_SQL", value: "warn" },
      ];
      pod(api).initContainers = [
        { name: "migrate", image: container(api).image, env: [{ name: "LOG_LEVEL", value: "info" }] },
      ];
    },
    expect: [],
  },
  {
    rule: "hpa-target-exists",
    title: "an HPA naming a workload the stack does not have, and one with no target name",
    mutate: (o) => {
      scaleTargetRef(find(o, "HorizontalPodAutoscaler", "worker")).name = "workers";
      delete scaleTargetRef(find(o, "HorizontalPodAutoscaler", "api")).name;
    },
    expect: [
      {
        kind: "HorizontalPodAutoscaler",
        name: "worker",
        message:
          "HorizontalPodAutoscaler worker scales Deployment/workers, which is not in namespace platform: point scaleTargetRef at the workload's kind and name (audit the workload's file with it)",
      },
      {
        kind: "HorizontalPodAutoscaler",
        name: "api",
        message: "set spec.scaleTargetRef.kind and .name to the workload HorizontalPodAutoscaler api scales",
      },
    ],
  },
  {
    rule: "hpa-target-exists",
    title: "the same name in another namespace does not count; a custom scalable kind is not judged",
    mutate: (o) => {
      const worker = find(o, "HorizontalPodAutoscaler", "worker");
      worker.metadata!.namespace = "turn";
      scaleTargetRef(find(o, "HorizontalPodAutoscaler", "api")).kind = "Rollout";
      scaleTargetRef(find(o, "HorizontalPodAutoscaler", "api")).apiVersion = "argoproj.io/v1alpha1";
    },
    expect: [
      {
        kind: "HorizontalPodAutoscaler",
        name: "worker",
        message:
          "HorizontalPodAutoscaler worker scales Deployment/worker, which is not in namespace turn: point scaleTargetRef at the workload's kind and name (audit the workload's file with it)",
      },
    ],
  },
];
