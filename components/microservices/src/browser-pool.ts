import { Autoscaling, NetworkPeer, ResourceSpec, ValidationError, Workload, parseMemory } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";

/** The uid of `pwuser` in Playwright's Ubuntu noble images (uid 1000 is noble's own `ubuntu` user). */
export const pwuserUid = 1001;

export interface BrowserPoolArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  /** The browser-pool-service image (Playwright and its browsers baked in; registry applied). */
  image: string;
  resources: ResourceSpec;
  autoscaling: Autoscaling;
  /** Size of the memory-backed /dev/shm in Gi. */
  shmGi: number;
  allowFrom: NetworkPeer[];
}

export function validateBrowserPoolArgs(args: BrowserPoolArgs): ValidationError[] {
  const problems: ValidationError[] = [];
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
 * A pool of headless browsers: the browser-pool-service image (built on Playwright's noble image, browsers
 * baked in, nothing fetched at start) serving on 8002, as Playwright's non-root `pwuser`.
 * Chromium's shared memory is a memory-backed /dev/shm; zombie browser processes are reaped by the pod's
 * pause container, which becomes PID 1 when the process namespace is shared (the `docker run --init`
 * equivalent: the image ships no init, and a single-container pod shares with no one).
 */
export class BrowserPool extends pulumi.ComponentResource {
  readonly serviceName: pulumi.Output<string>;
  /** The WebSocket port sessions connect to. */
  readonly port = 8002;

  constructor(name: string, args: BrowserPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:microservices:BrowserPool", name, {}, opts);
    const problems = validateBrowserPoolArgs(args);
    if (problems.length > 0) throw problems[0];
    const port = { tcp: { port: this.port } };
    const workload = new Workload(
      name,
      {
        namespace: args.namespace,
        appName: "browser-pool",
        partOf: args.partOf,
        image: args.image,
        autoscaling: { ...args.autoscaling, cpuUtilization: 60, memoryUtilization: 70 },
        resources: args.resources,
        bootSeconds: 120,
        probes: {
          startup: { ...port, periodSeconds: 5, failureThreshold: 24, timeoutSeconds: 3 },
          readiness: { ...port, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
          liveness: { ...port, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
        },
        ports: [{ name: "ws", port: this.port }],
        env: {
          HOME: "/home/pwuser",
          TMPDIR: "/scratch",
          PLAYWRIGHT_BROWSERS_PATH: "/ms-playwright",
        },
        runAsUser: pwuserUid,
        shareProcessNamespace: true,
        scratchVolumes: [
          { name: "dshm", mountPath: "/dev/shm", medium: "Memory", sizeLimit: `${args.shmGi}Gi` },
          { name: "scratch", mountPath: "/scratch", sizeLimit: "2Gi" },
          { name: "home", mountPath: "/home/pwuser", sizeLimit: "512Mi" },
        ],
        // Open sessions get time to finish before the browsers are killed.
        terminationGracePeriodSeconds: 60,
        allowFrom: args.allowFrom,
        // Browsing the web (public addresses only).
        egressTo: [
          { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], ports: [80, 443] },
        ],
      },
      { parent: this },
    );
    this.serviceName = workload.serviceName;
    this.registerOutputs({ serviceName: this.serviceName });
  }
}
