/**
 * Renders a stack's Kubernetes objects — the inputs the program registers, under the unit tests' Pulumi
 * mocks — without a cluster or an engine. Values only a provider would know come out as the mocks' stand-ins.
 */
import { stringify } from "yaml";
import { parseStackConfig } from "../../program/config";
import { deploy } from "../../program/deploy";
import { installMocks, settle } from "../../test/unit/harness";
import { stackConfig } from "../../test/unit/fixtures";

export type StackName = "dev" | "prod";

/** The stack's Kubernetes objects, in registration order. */
export async function renderObjects(stack: StackName): Promise<Record<string, unknown>[]> {
  await installMocks();
  deploy(parseStackConfig(stackConfig(stack)));
  return (await settle()).filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.inputs);
}

/**
 * The objects as a multi-document YAML stream, one document per object. YAML 1.1 quoting, because Go
 * readers (kube-score) take a plain `yes` or `on` for a boolean where the program means the string.
 */
export function toYamlStream(objects: Record<string, unknown>[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, version: "1.1" })).join("---\n");
}
