import { asString, specOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** Exposure outside the cluster goes through the Ingress controller, or is a documented exemption. */
export const serviceExposure = resourceRule({
  id: "service-exposure",
  findings: ["F13", "F23"],
  description:
    "Services are ClusterIP (or headless); NodePort and LoadBalancer need an exemption with a reason.",
  fix: "ClusterIP behind the Ingress, or exempt with a reason",
  defaultLevel: "mandatory",
  kinds: new Set(["Service"]),
  config: NO_CONFIG,
  check(obj) {
    const type = asString(specOf(obj).type);
    if (type !== "NodePort" && type !== "LoadBalancer") {
      return [];
    }
    return [
      `Service type ${type} exposes it outside the cluster: use type ClusterIP behind an Ingress, or add annotation exempt.keel.dev/service-exposure with the reason`,
    ];
  },
});
