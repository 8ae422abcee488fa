import { asString, isRecord } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";
import { perElement } from "../core/unknown";

/** F8: no workload identity gets the keys to the whole cluster. */
export const clusterAdminBinding = resourceRule({
  id: "cluster-admin-binding",
  findings: ["F8"],
  description:
    "No ClusterRoleBinding or RoleBinding grants the cluster-admin ClusterRole to a ServiceAccount.",
  fix: "bind a Role/ClusterRole with only the needed verbs",
  defaultLevel: "mandatory",
  kinds: new Set(["ClusterRoleBinding", "RoleBinding"]),
  config: NO_CONFIG,
  check(obj) {
    const roleRef = isRecord(obj.roleRef) ? obj.roleRef : {};
    if (asString(roleRef.name) !== "cluster-admin") {
      return [];
    }
    return perElement<{ kind?: string; name?: string; namespace?: string } | undefined>(
      () => obj.subjects,
      (subject) => {
        const isServiceAccount =
          subject?.kind === "ServiceAccount" ||
          (subject?.kind === "Group" && /^system:serviceaccounts/.test(asString(subject.name) ?? ""));
        if (!subject || !isServiceAccount) {
          return [];
        }
        const who =
          subject.kind === "ServiceAccount"
            ? `ServiceAccount ${subject.namespace ? `${subject.namespace}/` : ""}${subject.name ?? "?"}`
            : `group ${subject.name}`;
        return [
          `${who} is bound to cluster-admin: bind it to a Role/ClusterRole listing only the verbs and resources it needs`,
        ];
      },
    );
  },
});
