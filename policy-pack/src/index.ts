/**
 * Entry point the Pulumi engine loads (package.json `main`, compiled to bin/src/index.js):
 * `pulumi preview --policy-pack ./policy-pack`.
 */
import { PolicyPack } from "@pulumi/policy";
import { buildPolicies } from "./pack/policies";
import { shareDeserialization } from "./pack/shared-analysis";

// Each resource of an AnalyzeStack call is deserialized once for all policies, not once per policy.
shareDeserialization();

new PolicyPack("keel", {
  description:
    "keel platform policies: the defects found by the platform audits (F1-F23) plus Kubernetes hardening.",
  policies: buildPolicies(),
});
