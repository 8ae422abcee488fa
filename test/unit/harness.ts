import * as pulumi from "@pulumi/pulumi";

/** A resource registered with the mock engine: its type token, name, inputs and parent's name. */
export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

const recorded: Recorded[] = [];

/** Installs mocks that record every resource; `preview` leaves provider outputs unknown. */
export async function installMocks(preview = false): Promise<void> {
  recorded.length = 0;
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "random:index/randomPassword:RandomPassword") {
          state.result = `generated-${args.name}-Zq8vK2mXw9`;
        }
        if (args.type === "random:index/randomBytes:RandomBytes") {
          state.base64 = Buffer.alloc(args.inputs.length ?? 32, args.name).toString("base64");
        }
        if (args.type.startsWith("tls:")) {
          state.privateKeyPem = `-----BEGIN PRIVATE KEY-----\n${args.name}\n-----END PRIVATE KEY-----`;
          state.certPem = `-----BEGIN CERTIFICATE-----\n${args.name}\n-----END CERTIFICATE-----`;
          state.certRequestPem = "csr";
        }
        if (args.type.startsWith("kubernetes:") && args.inputs.metadata && !args.inputs.metadata.name) {
          state.metadata = { ...args.inputs.metadata, name: `${args.name}-abc123` };
        }
        return { id: preview ? "" : `${args.name}-id`, state: preview ? {} : state };
      },
      call: () => ({}),
    },
    "keel",
    "unit",
    preview,
  );
}

/** Waits until no new resource has been registered for a few turns of the event loop. */
export async function settle(): Promise<Recorded[]> {
  let last = -1;
  let stable = 0;
  while (stable < 5) {
    await new Promise((r) => setTimeout(r, 5));
    if (recorded.length === last) stable++;
    else {
      stable = 0;
      last = recorded.length;
    }
  }
  return [...recorded];
}

export function ofType(resources: Recorded[], type: string): Recorded[] {
  return resources.filter((r) => r.type === type || r.type.endsWith(`:${type}`));
}

/** The resource of `type` (a suffix such as "Deployment" or a full token) named `name`. */
export function get(resources: Recorded[], type: string, name: string): Recorded {
  const r = resources.find((x) => x.name === name && (x.type === type || x.type.endsWith(`:${type}`)));
  if (!r) throw new Error(`no ${type} named ${name}; have ${resources.map((x) => x.name).join(", ")}`);
  return r;
}

/** Every pod spec of Deployments, StatefulSets and CronJobs, with the owner's name. */
export function podSpecs(resources: Recorded[]): { owner: string; spec: any }[] {
  const out: { owner: string; spec: any }[] = [];
  for (const r of resources) {
    if (r.type === "kubernetes:apps/v1:Deployment" || r.type === "kubernetes:apps/v1:StatefulSet") {
      out.push({ owner: r.name, spec: r.inputs.spec.template.spec });
    }
    if (r.type === "kubernetes:batch/v1:CronJob") {
      out.push({ owner: r.name, spec: r.inputs.spec.jobTemplate.spec.template.spec });
    }
  }
  return out;
}

/** Resolves an output's value and whether it is secret. */
export async function unwrap<T>(o: pulumi.Output<T>): Promise<{ value: T; secret: boolean }> {
  const anyO = o as any;
  const [value, secret] = await Promise.all([anyO.promise(), anyO.isSecret]);
  return { value, secret };
}
