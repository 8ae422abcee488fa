import { asArray, asString, isRecord } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** F8: no workload identity gets the keys to the whole cluster. */
export const clusterAdminBinding = resourceRule({
    id: "cluster-admin-binding",
    findings: ["F8"],
    description: "No ClusterRoleBinding or RoleBinding grants the cluster-admin ClusterRole to a ServiceAccount.",
    defaultLevel: "mandatory",
    kinds: new Set(["ClusterRoleBinding", "RoleBinding"]),
    config: NO_CONFIG,
    check(obj) {
        const roleRef = isRecord(obj.roleRef) ? obj.roleRef : {};
        if (asString(roleRef.name) !== "cluster-admin") {
            return [];
        }
        const messages: string[] = [];
        for (const subject of asArray<{ kind?: string; name?: string; namespace?: string }>(obj.subjects)) {
            const isServiceAccount = subject?.kind === "ServiceAccount"
                || (subject?.kind === "Group" && /^system:serviceaccounts/.test(asString(subject.name) ?? ""));
            if (isServiceAccount) {
                const who = subject.kind === "ServiceAccount" ? `ServiceAccount ${subject.namespace ? `${subject.namespace}/` : ""}${subject.name ?? "?"}` : `group ${subject.name}`;
                messages.push(`${who} is bound to cluster-admin: bind it to a Role/ClusterRole listing only the verbs and resources it needs`);
            }
        }
        return messages;
    },
});
