import type { K8sObject } from "../core/k8s";
import { readOr } from "../core/unknown";

/** What CrossGuard hands a stack policy for each resource (a subset of PolicyResource). */
export interface EngineResource {
  type: string;
  urn: string;
  props: Record<string, unknown>;
}

/** Pulumi Kubernetes types that are not API objects themselves (their children are). */
const COMPONENT_TYPE = /^kubernetes:(helm\.sh|yaml|kustomize)(\/|:)|^kubernetes:.*(Patch|List)$/;

/**
 * apiVersion and kind from a Pulumi type token: `kubernetes:apps/v1:Deployment` -> apps/v1 Deployment,
 * `kubernetes:core/v1:Pod` -> v1 Pod. Custom resources (`kubernetes:apiextensions.k8s.io:CustomResource`)
 * carry their own apiVersion and kind in props.
 */
export function apiVersionAndKind(type: string): { apiVersion?: string; kind?: string } | undefined {
  if (!type.startsWith("kubernetes:") || COMPONENT_TYPE.test(type)) {
    return undefined;
  }
  const match = /^kubernetes:([^:]+)\/([^/:]+):([A-Za-z0-9]+)$/.exec(type);
  if (!match) {
    return {};
  }
  const [, group, version, kind] = match;
  return { apiVersion: group === "core" ? version : `${group}/${version}`, kind };
}

/**
 * A plain Kubernetes object over the engine's props. Fields are getters onto the props, so a value unknown
 * at preview still throws when (and only when) a rule reads it; apiVersion and kind are resolved up front.
 */
export function toK8sObject(resource: EngineResource): K8sObject | undefined {
  const fromType = apiVersionAndKind(resource.type);
  if (!fromType) {
    return undefined;
  }
  const props = resource.props;
  const apiVersion =
    readOr(() => (typeof props.apiVersion === "string" ? props.apiVersion : undefined), undefined) ??
    fromType.apiVersion;
  const kind =
    readOr(() => (typeof props.kind === "string" ? props.kind : undefined), undefined) ?? fromType.kind;
  if (!kind) {
    return undefined;
  }
  const obj: K8sObject = { apiVersion, kind };
  for (const key of Object.keys(props)) {
    if (key === "apiVersion" || key === "kind") {
      continue;
    }
    Object.defineProperty(obj, key, { enumerable: true, get: () => props[key] });
  }
  return obj;
}
