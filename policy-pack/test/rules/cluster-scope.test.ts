import { strict as assert } from "assert";
import { evaluateAll } from "../../src/core/evaluate";
import { K8sObject, isClusterScoped, namespaceOf } from "../../src/core/k8s";
import { StackIndex } from "../../src/core/stack-index";
import { ALL_RULES } from "../../src/registry";

const rule = ALL_RULES.find((r) => r.id === "default-namespace")!;

function obj(apiVersion: string, kind: string, namespace?: string): K8sObject {
  return {
    apiVersion,
    kind,
    metadata:
      namespace === undefined
        ? { name: `a-${kind.toLowerCase()}` }
        : { name: `a-${kind.toLowerCase()}`, namespace },
  };
}

function flagged(objects: K8sObject[]): string[] {
  return evaluateAll(objects, [rule]).map((f) => `${f.kind} ${f.namespace}/${f.name}: ${f.message}`);
}

describe("default-namespace and cluster-scoped kinds", () => {
  const clusterScoped = [
    obj("v1", "Namespace"),
    obj("v1", "PersistentVolume"),
    obj("gateway.networking.k8s.io/v1", "GatewayClass"),
    obj("rbac.authorization.k8s.io/v1", "ClusterRole"),
    obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    obj("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    obj("storage.k8s.io/v1", "StorageClass"),
    obj("networking.k8s.io/v1", "IngressClass"),
    obj("scheduling.k8s.io/v1", "PriorityClass"),
    obj("node.k8s.io/v1", "RuntimeClass"),
    obj("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
    obj("certificates.k8s.io/v1", "CertificateSigningRequest"),
    obj("cert-manager.io/v1", "ClusterIssuer"),
    obj("kyverno.io/v1", "ClusterPolicy"),
    // A kind the table does not name, in a group whose every kind is cluster-scoped.
    obj("constraints.gatekeeper.sh/v1beta1", "K8sRequiredLabels"),
    obj("admissionregistration.k8s.io/v1alpha1", "MutatingAdmissionPolicy"),
  ];

  it("reports nothing for cluster-scoped kinds without a namespace", () => {
    assert.deepEqual(flagged(clusterScoped), []);
    for (const o of clusterScoped) {
      assert.ok(isClusterScoped(o.kind!, o.apiVersion), `${o.apiVersion} ${o.kind}`);
      assert.equal(
        namespaceOf(o),
        o.kind === "Namespace" ? o.metadata!.name : "",
        `${o.kind} must not be placed in 'default'`,
      );
    }
  });

  it("still reports namespaced kinds of the same groups without a namespace or in 'default'", () => {
    const namespaced = [
      obj("gateway.networking.k8s.io/v1", "Gateway"),
      obj("gateway.networking.k8s.io/v1alpha2", "UDPRoute", "default"),
      obj("cert-manager.io/v1", "Issuer"),
      obj("cert-manager.io/v1", "Certificate", "default"),
      obj("storage.k8s.io/v1", "CSIStorageCapacity"),
      obj("rbac.authorization.k8s.io/v1", "RoleBinding"),
      obj("networking.k8s.io/v1", "NetworkPolicy"),
      obj("v1", "ConfigMap", "default"),
      // A custom kind of a group the table does not know is namespaced, as CRDs are by default.
      obj("stunner.l7mp.io/v1", "GatewayConfig"),
    ];
    const messages = flagged([...namespaced, obj("v1", "ConfigMap", "apps")]);
    assert.deepEqual(messages.map((m) => m.split(":")[0]).sort(), [
      "CSIStorageCapacity default/a-csistoragecapacity",
      "Certificate default/a-certificate",
      "ConfigMap default/a-configmap",
      "Gateway default/a-gateway",
      "GatewayConfig default/a-gatewayconfig",
      "Issuer default/a-issuer",
      "NetworkPolicy default/a-networkpolicy",
      "RoleBinding default/a-rolebinding",
      "UDPRoute default/a-udproute",
    ]);
    for (const o of namespaced) {
      assert.equal(isClusterScoped(o.kind!, o.apiVersion), false, `${o.apiVersion} ${o.kind}`);
    }
  });

  it("follows the scope a CustomResourceDefinition of the stack declares, both ways", () => {
    const crd = (group: string, kind: string, scope: string): K8sObject => ({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `${kind.toLowerCase()}s.${group}` },
      spec: {
        group,
        scope,
        names: { kind, plural: `${kind.toLowerCase()}s` },
        versions: [{ name: "v1", served: true, storage: true }],
      },
    });
    const dataplane = obj("stunner.l7mp.io/v1", "Dataplane");
    const widget = obj("example.com/v1", "Widget");
    // Declared Namespaced by its CRD although the table would say cluster-scoped: the CRD wins.
    const selfDeclared = obj("constraints.gatekeeper.sh/v1beta1", "LocalThing");
    const objects = [
      crd("stunner.l7mp.io", "Dataplane", "Cluster"),
      crd("example.com", "Widget", "Namespaced"),
      crd("constraints.gatekeeper.sh", "LocalThing", "Namespaced"),
      dataplane,
      widget,
      selfDeclared,
    ];
    assert.deepEqual(
      flagged(objects)
        .map((m) => m.split(":")[0])
        .sort(),
      ["LocalThing default/a-localthing", "Widget default/a-widget"],
    );
    const stack = new StackIndex(objects);
    assert.equal(stack.namespaceOf(dataplane), "");
    assert.equal(stack.namespaceOf(widget), "default");
    // Without the CRD, an unknown group's kind is namespaced.
    assert.deepEqual(
      flagged([widget]).map((m) => m.split(":")[0]),
      ["Widget default/a-widget"],
    );
  });
});
