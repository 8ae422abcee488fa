import type { K8sObject } from "./k8s";

/** One line of a report. `exempt` marks a violation switched off by an exemption annotation. */
export type FindingLevel = "mandatory" | "advisory" | "exempt";

export interface Finding {
  rule: string;
  level: FindingLevel;
  kind: string;
  namespace: string;
  name: string;
  message: string;
  /** The object the finding is about (absent for stack-wide findings such as capacity). */
  subject?: K8sObject;
}
