import {
  Autoscaling,
  NetworkPeer,
  ResourceSpec,
  ValidationError,
  Workload,
  exemptionKey,
  parseMemory,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";

/** The Playwright version of an image tag such as `v1.58.0-noble` (server and browsers must match). */
export function playwrightVersion(image: string): string | undefined {
  return /:v(\d+\.\d+\.\d+)(-[a-z]+)?(@sha256:[a-f0-9]{64})?$/.exec(image)?.[1];
}

/** The uid of `pwuser` in Playwright's Ubuntu noble images (uid 1000 is noble's own `ubuntu` user). */
export const pwuserUid = 1001;

export interface BrowserPoolArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  /** `mcr.microsoft.com/playwright:v1.x.y-noble` (registry applied). */
  image: string;
  resources: ResourceSpec;
  autoscaling: Autoscaling;
  /** Size of the memory-backed /dev/shm in Gi. */
  shmGi: number;
  npmRegistry: string;
  allowFrom: NetworkPeer[];
}

export function validateBrowserPoolArgs(args: BrowserPoolArgs): ValidationError[] {
  const problems: ValidationError[] = [];
  if (!playwrightVersion(args.image)) {
    problems.push(
      new ValidationError("image", `"${args.image}" has no Playwright version tag such as v1.58.0-noble`),
    );
  }
  if (!(args.shmGi >= 1))
    problems.push(new ValidationError("shmGi", "Chromium needs at least 1Gi of /dev/shm"));
  const limit = parseMemory(args.resources.limits.memory, "resources.limits.memory");
  if (limit < (args.shmGi + 1) * 1024 ** 3) {
    problems.push(
      new ValidationError(
        "resources.limits.memory",
        `must hold the ${args.shmGi}Gi memory-backed /dev/shm plus at least 1Gi for the browsers`,
      ),
    );
  }
  return problems;
}

/**
 * A pool of headless browsers behind Playwright's own server (`playwright run-server`, clients connect with
 * `chromium.connect("ws://browser-pool:8002/")`), on Playwright's image as its non-root `pwuser`.
 * Chromium's shared memory is a memory-backed /dev/shm; zombie browser processes are reaped by the pod's
 * pause container, which becomes PID 1 when the process namespace is shared (the `docker run --init`
 * equivalent: the image ships no init, and a single-container pod shares with no one).
 */
export class BrowserPool extends pulumi.ComponentResource {
  readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: BrowserPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:microservices:BrowserPool", name, {}, opts);
    const problems = validateBrowserPoolArgs(args);
    if (problems.length > 0) throw problems[0];
    const version = playwrightVersion(args.image)!;
    const port = { tcp: { port: 8002 } };
    const workload = new Workload(
      name,
      {
        namespace: args.namespace,
        appName: "browser-pool",
        partOf: args.partOf,
        image: args.image,
        command: ["npx", "-y", `playwright@${version}`, "run-server", "--port", "8002", "--host", "0.0.0.0"],
        autoscaling: { ...args.autoscaling, cpuUtilization: 60, memoryUtilization: 70 },
        resources: args.resources,
        bootSeconds: 120,
        probes: {
          startup: { ...port, periodSeconds: 5, failureThreshold: 24, timeoutSeconds: 3 },
          readiness: { ...port, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
          liveness: { ...port, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
        },
        ports: [{ name: "ws", port: 8002 }],
        env: {
          HOME: "/home/pwuser",
          TMPDIR: "/scratch",
          NPM_CONFIG_CACHE: "/home/pwuser/.npm",
          NPM_CONFIG_REGISTRY: args.npmRegistry,
          NPM_CONFIG_UPDATE_NOTIFIER: "false",
          PLAYWRIGHT_BROWSERS_PATH: "/ms-playwright",
        },
        runAsUser: pwuserUid,
        shareProcessNamespace: true,
        scratchVolumes: [
          { name: "dshm", mountPath: "/dev/shm", medium: "Memory", sizeLimit: `${args.shmGi}Gi` },
          { name: "scratch", mountPath: "/scratch", sizeLimit: "2Gi" },
          { name: "npm", mountPath: "/home/pwuser/.npm", sizeLimit: "512Mi" },
        ],
        // Open sessions get time to finish before the browsers are killed.
        terminationGracePeriodSeconds: 60,
        allowFrom: args.allowFrom,
        // Browsing the web, and the npm registry for the server package.
        egressTo: [
          { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], ports: [80, 443] },
        ],
        annotations: {
          [exemptionKey("image-registry")]:
            "Microsoft publishes Playwright's browser image only on mcr.microsoft.com; keel:imageRegistry rewrites it to the site mirror",
        },
      },
      { parent: this },
    );
    this.serviceName = workload.serviceName;
    this.registerOutputs({ serviceName: this.serviceName });
  }
}
