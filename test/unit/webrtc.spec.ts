import {
  NodePortServices,
  splitPortRange,
  validateNodePortServicesArgs,
  validateWorkloadArgs,
} from "@keel/core";
import {
  GatewayCrds,
  WebRtc,
  WebRtcArgs,
  planWebRtc,
  renderLiveKitConfig,
  renderStunnerdConfig,
  stunnerdConfigText,
  validateWebRtcArgs,
} from "@keel/webrtc";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { parse } from "yaml";
import { Recorded, get, installMocks, ofType, settle, unwrap } from "./harness";
import { testSite, testTls, workloadArgs } from "./fixtures";

async function deployWebRtc(args: WebRtcArgs = {}): Promise<Recorded[]> {
  await installMocks();
  new WebRtc("webrtc", { plan: planWebRtc(testSite(), args), tls: testTls });
  return settle();
}

const envOf = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
const generatedTurnSecret = "generated-webrtc-turn-secret-secret-Zq8vK2mXw9";
/** The value of an input the engine received marked secret (it fails for a plain value). */
function secretValue(input: any): any {
  expect(input?.[pulumi.runtime.specialSigKey], "not marked secret").to.equal(
    pulumi.runtime.specialSecretSig,
  );
  return input.value;
}
/** stunnerd's config file as registered in its Secret (marked secret). */
const stunnerdConfigFile = (res: Recorded[]): string =>
  secretValue(get(res, "kubernetes:core/v1:Secret", "webrtc-stunner-stunnerd-config").inputs.stringData)[
    "stunnerd.conf"
  ];

describe("the WebRTC platform", () => {
  let res: Recorded[];
  before(async () => {
    res = await deployWebRtc();
  });

  it("configures LiveKit with explicit node IP and interfaces, no external-IP lookup, Redis for multi-node", () => {
    const conf = parse(get(res, "ConfigMap", "webrtc-livekit-config").inputs.data["livekit.yaml"]);
    expect(conf.rtc).to.deep.include({
      use_external_ip: false,
      tcp_port: 30081,
      udp_port: 30082,
      interfaces: { includes: ["eth0"] },
    });
    expect(conf.rtc.port_range_start).to.equal(undefined);
    expect(conf.redis.address).to.equal("redis:6379");
    // LiveKit 1.13 warns about prometheus_port and maps log_level: only their current forms.
    expect(conf.prometheus).to.deep.equal({ port: 6789 });
    expect(conf.logging).to.deep.equal({ level: "info" });
    expect(conf).to.not.have.any.keys("prometheus_port", "log_level");
    const c = get(res, "Deployment", "webrtc-livekit").inputs.spec.template.spec.containers[0];
    expect(c.args.slice(-2)).to.deep.equal(["--node-ip", "$(NODE_IP)"]);
    expect(c.ports.find((p: any) => p.name === "metrics").containerPort).to.equal(conf.prometheus.port);
    const env = envOf(c);
    expect(env.NODE_IP).to.deep.equal({ fieldRef: { fieldPath: "status.hostIP" } });
    expect(env.LIVEKIT_KEYS).to.have.nested.property("secretKeyRef.key", "keys");
    expect(env.REDIS_PASSWORD).to.have.nested.property("secretKeyRef.key", "password");
    const keys = ofType(res, "RandomPassword").filter((p) => p.name.startsWith("webrtc-livekit-keys"));
    expect(keys.map((k) => k.inputs.length).sort()).to.deep.equal([16, 48]);
  });

  it("renders LiveKit's and stunnerd's config deterministically; no ConfigMap holds a secret", () => {
    const input = {
      redisAddress: "r:6379",
      rtcTcpPort: 30081,
      rtcUdpPortStart: 31000,
      rtcUdpPortEnd: 31010,
      interfaces: ["eth0"],
    };
    expect(renderLiveKitConfig(input)).to.equal(renderLiveKitConfig({ ...input }));
    expect(parse(renderLiveKitConfig(input)).rtc).to.deep.include({
      port_range_start: 31000,
      port_range_end: 31010,
    });
    const stunnerdInput = { realm: "turn.example.org", peerCidrs: ["10.0.0.0/8"] };
    const stunnerd = renderStunnerdConfig(stunnerdInput, "s3cret");
    expect(stunnerd).to.equal(renderStunnerdConfig({ ...stunnerdInput }, "s3cret"));
    const parsed = parse(stunnerd);
    // stunnerd never expands variables in auth.credentials: the secret itself must be written in.
    expect(parsed.auth).to.deep.equal({
      type: "ephemeral",
      realm: "turn.example.org",
      credentials: { secret: "s3cret" },
    });
    expect(parsed.listeners[0]).to.deep.include({
      protocol: "TURN-UDP",
      port: 3478,
      address: "$STUNNER_ADDR",
    });
    for (const cm of ofType(res, "ConfigMap"))
      expect(JSON.stringify(cm.inputs.data)).not.to.contain("generated-");
  });

  it("gives stunnerd the real TURN secret in a config file from a Secret, marked secret, never in a ConfigMap or env", async () => {
    const text = await unwrap(stunnerdConfigText({ realm: "r", peerCidrs: [] }, "plain-input"));
    expect(text.secret).to.equal(true);
    expect(parse(text.value).auth.credentials).to.deep.equal({ secret: "plain-input" });
    const secret = get(res, "kubernetes:core/v1:Secret", "webrtc-stunner-stunnerd-config").inputs;
    expect(secret.metadata.name).to.equal("stunnerd-config");
    expect(parse(stunnerdConfigFile(res)).auth.credentials).to.deep.equal({
      secret: generatedTurnSecret,
    });
    const pod = get(res, "Deployment", "webrtc-stunner-stunnerd").inputs.spec.template.spec;
    expect(pod.volumes).to.deep.include({ name: "config", secret: { secretName: "stunnerd-config" } });
    expect(pod.containers[0].volumeMounts).to.deep.include({
      name: "config",
      mountPath: "/etc/stunnerd",
      readOnly: true,
    });
    expect(JSON.stringify(pod.containers[0].env)).not.to.contain("SECRET");
    const everything = JSON.stringify(res.map((r) => r.inputs));
    expect(everything).not.to.contain("$STUNNER_SHARED_SECRET");
  });

  it("exposes LiveKit's RTC ports as it advertises them: NodePort, port = targetPort = nodePort, ≤ 250 per Service", async () => {
    const res = await deployWebRtc({ app: { rtcUdpPortStart: 31000, rtcUdpPortEnd: 31499 } });
    const services = ofType(res, "Service").filter((s) => s.inputs.spec.type === "NodePort");
    expect(services.map((s) => s.inputs.metadata.name).sort()).to.deep.equal([
      "livekit-rtc-tcp",
      "livekit-rtc-udp-0",
      "livekit-rtc-udp-1",
    ]);
    const udp = services.filter((s) => s.inputs.metadata.name.startsWith("livekit-rtc-udp"));
    expect(udp.map((s) => s.inputs.spec.ports.length)).to.deep.equal([250, 250]);
    for (const s of services) {
      expect(s.inputs.spec.externalTrafficPolicy).to.equal("Local");
      expect(s.inputs.metadata.annotations["exempt.keel.dev/service-exposure"]).to.match(/ICE candidates/);
      for (const p of s.inputs.spec.ports) expect([p.targetPort, p.nodePort]).to.deep.equal([p.port, p.port]);
    }
    const policy = get(res, "NetworkPolicy", "webrtc-livekit-rtc-netpol").inputs.spec;
    expect(policy.ingress[0].ports).to.deep.include({ port: 31000, endPort: 31499, protocol: "UDP" });
    const livekit = get(res, "Deployment", "webrtc-livekit").inputs.spec.template.spec;
    expect(
      livekit.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey,
    ).to.equal("kubernetes.io/hostname");
  });

  it("splits port ranges and refuses ports outside the node-port range", () => {
    expect(splitPortRange(31000, 31600)).to.deep.equal([
      { start: 31000, end: 31249 },
      { start: 31250, end: 31499 },
      { start: 31500, end: 31600 },
    ]);
    const problems = validateNodePortServicesArgs({
      namespace: "x",
      partOf: "x",
      app: "x",
      reason: "",
      ports: [{ name: "a", protocol: "UDP", start: 7882 }],
    });
    expect(problems.map((p) => p.field)).to.deep.equal(["reason", "ports[0]"]);
    expect(
      () => new NodePortServices("n", { namespace: "x", partOf: "x", app: "x", reason: "r", ports: [] }),
    ).to.throw(/at least one port/);
    expect(validateWebRtcArgs({ app: { rtcUdpPortStart: 7882 } })[0].field).to.equal("app.rtcUdpPortStart");
    expect(() => planWebRtc(testSite(), { app: { rtcUdpPortStart: 7882 } })).to.throw(/app\.rtcUdpPortStart/);
  });

  it("declares STUNner's Gateway API objects: GatewayClass, GatewayConfig, a TURN-UDP Gateway on 3478, a UDPRoute to LiveKit", () => {
    const cr = (kind: string) => res.filter((r) => r.type.endsWith(`:${kind}`));
    expect(cr("GatewayClass")[0].inputs.spec.controllerName).to.equal("stunner.l7mp.io/gateway-operator");
    expect(cr("GatewayConfig")[0].inputs.spec).to.deep.include({
      realm: "turn.example.org",
      authType: "ephemeral",
    });
    expect(cr("Gateway")[0].inputs.spec.listeners).to.deep.equal([
      { name: "udp-listener", port: 3478, protocol: "TURN-UDP" },
    ]);
    expect(cr("UDPRoute")[0].inputs.spec.rules[0].backendRefs[0].name).to.equal("livekit");
    const stunnerd = get(res, "Deployment", "webrtc-stunner-stunnerd").inputs.spec.template.spec
      .containers[0];
    // A bare path would be read as a config-discovery server address: stunnerd needs a file:// URI.
    expect(stunnerd.args).to.deep.equal(["-w", "-c", "file:///etc/stunnerd/stunnerd.conf"]);
    expect(envOf(stunnerd).STUNNER_ADDR).to.deep.equal({ fieldRef: { fieldPath: "status.podIP" } });
    const lb = get(res, "Service", "webrtc-stunner-turn").inputs;
    expect(lb.spec.type).to.equal("LoadBalancer");
    expect(lb.metadata.annotations["exempt.keel.dev/service-exposure"]).to.be.a("string");
  });

  it("installs minimal apiextensions.k8s.io/v1 CRDs for those kinds only when asked to (default on)", async () => {
    const crds = ofType(res, "CustomResourceDefinition");
    expect(crds.map((c) => c.inputs.metadata.name).sort()).to.deep.equal([
      "gatewayclasses.gateway.networking.k8s.io",
      "gatewayconfigs.stunner.l7mp.io",
      "gateways.gateway.networking.k8s.io",
      "udproutes.stunner.l7mp.io",
    ]);
    for (const c of crds) {
      expect(c.type).to.equal("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition");
      expect(c.inputs.spec.versions[0].schema.openAPIV3Schema.x_kubernetes_preserve_unknown_fields).to.equal(
        true,
      );
    }
    const without = await deployWebRtc({ app: { installCrds: false } });
    expect(ofType(without, "CustomResourceDefinition")).to.deep.equal([]);
    expect(without.filter((r) => r.type.endsWith(":Gateway"))).to.have.length(1);
  });

  it("runs coturn as the documented exception: privileged namespace with a reason, host network, NET_ADMIN", () => {
    const ns = ofType(res, "kubernetes:core/v1:Namespace").find((n) => n.inputs.metadata.name === "turn")!;
    expect(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"]).to.equal("privileged");
    expect(ns.inputs.metadata.annotations["exempt.keel.dev/namespace-pod-security"]).to.match(/host network/);
    const webrtcNs = ofType(res, "kubernetes:core/v1:Namespace").find(
      (n) => n.inputs.metadata.name === "webrtc",
    )!;
    expect(webrtcNs.inputs.metadata.labels["pod-security.kubernetes.io/enforce"]).to.equal("restricted");
    const d = get(res, "Deployment", "webrtc-coturn").inputs;
    const spec = d.spec.template.spec;
    expect(spec.hostNetwork).to.equal(true);
    expect(spec.dnsPolicy).to.equal("ClusterFirstWithHostNet");
    expect(spec.containers[0].securityContext.capabilities).to.deep.equal({
      drop: ["ALL"],
      add: ["NET_ADMIN"],
    });
    expect(spec.containers[0].securityContext.runAsNonRoot).to.equal(true);
    for (const rule of ["host-namespaces", "capabilities"]) {
      expect(d.metadata.annotations[`exempt.keel.dev/${rule}`], rule).to.match(/NET_ADMIN/);
    }
    expect(spec.containers[0].args).to.include("--static-auth-secret=$(TURN_SHARED_SECRET)");
    const conf = get(res, "ConfigMap", "webrtc-coturn-config").inputs.data["turnserver.conf"];
    expect(conf).to.contain("use-auth-secret\n");
    expect(conf).to.contain("denied-peer-ip=10.0.0.0-10.255.255.255");
    expect(conf).not.to.match(/^static-auth-secret/m);
  });

  it("generates the TURN secret once and gives the same value to STUNner and coturn", () => {
    const turn = ofType(res, "RandomPassword").filter((p) => /turn|coturn/.test(p.name));
    expect(turn.map((p) => p.name)).to.deep.equal(["webrtc-turn-secret-secret"]);
    const secrets = ofType(res, "kubernetes:core/v1:Secret").filter(
      (s) => s.inputs.metadata.name === "turn-shared-secret",
    );
    expect(secrets.map((s) => s.inputs.metadata.namespace).sort()).to.deep.equal(["turn", "webrtc"]);
    for (const s of secrets) expect(JSON.stringify(s.inputs.stringData)).to.contain(generatedTurnSecret);
    expect(stunnerdConfigFile(res)).to.contain(generatedTurnSecret);
  });

  it("leaves coturn and its privileged namespace out when switched off", async () => {
    const without = await deployWebRtc({ app: { coturn: false } });
    expect(ofType(without, "kubernetes:core/v1:Namespace").map((n) => n.inputs.metadata.name)).to.deep.equal([
      "webrtc",
    ]);
    expect(without.filter((r) => /coturn/.test(r.name))).to.deep.equal([]);
  });

  it("plans its namespaces, the node ports it opens and its demand before anything is created", () => {
    const plan = planWebRtc(testSite(), { app: { rtcUdpPortStart: 31000, rtcUdpPortEnd: 31002 } });
    expect(plan.namespaces).to.deep.equal(["webrtc", "turn"]);
    expect(plan.nodePorts).to.deep.equal([
      { port: 30081, protocol: "TCP" },
      { port: 31000, protocol: "UDP" },
      { port: 31001, protocol: "UDP" },
      { port: 31002, protocol: "UDP" },
      { port: 30078, protocol: "UDP" },
    ]);
    expect(plan.demand.map((d) => d.name)).to.deep.equal([
      "webrtc/livekit",
      "webrtc/redis",
      "webrtc/stunnerd",
      "webrtc/coturn",
    ]);
    expect(plan.turnUris).to.deep.equal([
      "turn:turn.example.org:3478?transport=udp",
      "turn:turn.example.org:3478?transport=tcp",
    ]);
    const without = planWebRtc(testSite({ sizing: "large" }), { app: { coturn: false } });
    expect(without.namespaces).to.deep.equal(["webrtc"]);
    expect(without.turnNamespace).to.equal(undefined);
    expect(without.demand.map((d) => d.name)).not.to.include("webrtc/coturn");
    expect(without.turnUris).to.have.length(1);
    expect(without.replicas.livekit).to.equal(testSite({ sizing: "large" }).sizing.replicas);
  });

  it("lets the peers it is given reach LiveKit's API and signalling port (Matrix's token service)", async () => {
    const peer = { app: "lk-jwt-service", namespace: "matrix" };
    const withClient = await deployWebRtc({ livekitClients: [peer] });
    const from = (r: Recorded[]) =>
      JSON.stringify(get(r, "NetworkPolicy", "webrtc-livekit-netpol").inputs.spec.ingress);
    expect(from(withClient)).to.contain("lk-jwt-service");
    expect(from(res)).not.to.contain("lk-jwt-service");
  });

  it("requires a reason for host networking and only known downward-API fields", () => {
    expect(validateWorkloadArgs("t", workloadArgs({ hostNetwork: { reason: " " } }))[0].field).to.equal(
      "hostNetwork.reason",
    );
    expect(validateWorkloadArgs("t", workloadArgs({ fieldEnv: { X: "spec.containers" } }))[0].field).to.equal(
      "fieldEnv.X",
    );
  });
});

describe("Gateway API CRDs", () => {
  it("carry the approval annotation the API server requires for *.k8s.io groups", async () => {
    await installMocks();
    new GatewayCrds("crds");
    const crds = (await settle()).filter((r) => r.type.endsWith(":CustomResourceDefinition"));
    for (const crd of crds) {
      const approved = crd.inputs.metadata.annotations["api-approved.kubernetes.io"];
      if (crd.inputs.spec.group.endsWith("k8s.io")) expect(approved, crd.name).to.match(/^https:\/\//);
      else expect(approved, crd.name).to.equal(undefined);
    }
  });
});

describe("NodePortServices across protocols", () => {
  const base = { namespace: "x", partOf: "x", app: "x", reason: "r" };
  it("refuses a TCP and a UDP range that overlap without being the same range", () => {
    const problems = validateNodePortServicesArgs({
      ...base,
      ports: [
        { name: "a", protocol: "TCP", start: 31000, end: 31010 },
        { name: "b", protocol: "UDP", start: 31005, end: 31020 },
      ],
    });
    expect(problems.map((p) => p.field)).to.deep.equal(["ports[1]"]);
    expect(problems[0].message).to.match(/shared across protocols/);
  });

  it("accepts TCP and UDP on the same range", () => {
    const problems = validateNodePortServicesArgs({
      ...base,
      ports: [
        { name: "rtc-tcp", protocol: "TCP", start: 31000, end: 31010 },
        { name: "rtc-udp", protocol: "UDP", start: 31000, end: 31010 },
      ],
    });
    expect(problems).to.deep.equal([]);
  });
});
