import { annotationsOf, asString, isRecord, specOf } from "../core/k8s";
import { checkEach } from "../core/unknown";
import { Violation, stackRule } from "../core/rule";

interface Settings {
  airGapped: boolean;
}

const ISSUER_ANNOTATIONS = ["cert-manager.io/cluster-issuer", "cert-manager.io/issuer"];

/** F21: an air-gapped install cannot answer ACME challenges, so Let's Encrypt certificates never issue. */
export const acmeAirGapped = stackRule<Settings>({
  id: "acme-air-gapped",
  findings: ["F21"],
  description:
    "With policy config airGapped: true, no cert-manager Issuer/ClusterIssuer uses spec.acme and no Ingress asks for one.",
  fix: "cert-manager `ca`/`selfSigned` issuer; point Ingress annotations at it",
  defaultLevel: "mandatory",
  config: {
    schema: {
      airGapped: { type: "boolean", description: "The stack has no internet access (default false)." },
    },
    defaults: { airGapped: false },
  },
  check(stack, settings) {
    if (settings.airGapped !== true) {
      return [];
    }
    const violations: Violation[] = [];
    const acmeIssuers = new Set<string>();
    const issuers = [...stack.ofKind("ClusterIssuer"), ...stack.ofKind("Issuer")];
    checkEach(issuers, violations, (issuer) => {
      const acme = specOf(issuer).acme;
      if (!isRecord(acme)) {
        return;
      }
      acmeIssuers.add(stack.nameOf(issuer));
      const server = asString(acme.server) ?? "an ACME server";
      violations.push({
        subject: issuer,
        message: `${stack.kindOf(issuer)} uses ACME (${server}), which needs the internet: use a cert-manager ca or selfSigned issuer (spec.ca.secretName) in the air-gapped stack`,
      });
    });
    checkEach(stack.ofKind("Ingress"), violations, (ingress) => {
      const annotations = annotationsOf(ingress);
      for (const key of ISSUER_ANNOTATIONS) {
        const issuer = asString(annotations[key]);
        if (issuer && (acmeIssuers.has(issuer) || /letsencrypt|acme/i.test(issuer))) {
          violations.push({
            subject: ingress,
            message: `annotation ${key}: ${issuer} requests an ACME certificate in an air-gapped stack: point it to the internal CA issuer`,
          });
        }
      }
    });
    return violations;
  },
});
