import { createHmac } from "crypto";
import { HttpAnswer, httpRequest } from "../conformance/harness";

/*
 * A Matrix client that talks only to HAProxy's port, as a browser behind the ingress would (the ingress's
 * X-Forwarded-For and X-Forwarded-Proto are set as the controller sets them). Each request is on a
 * connection of its own so that HAProxy logs it when it ends.
 */

export interface Answer extends HttpAnswer {
  json: any;
}

export class MatrixClient {
  /** Requests sent so far per port (HAProxy logs each one it got when its connection ends). */
  static readonly sent = new Map<number, number>();

  static sentTo(port: number): number {
    return MatrixClient.sent.get(port) ?? 0;
  }

  private count(): void {
    MatrixClient.sent.set(this.port, MatrixClient.sentTo(this.port) + 1);
  }

  constructor(
    readonly port: number,
    readonly token?: string,
  ) {}

  withToken(token: string): MatrixClient {
    return new MatrixClient(this.port, token);
  }

  async call(method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}) {
    this.count();
    const raw = Buffer.isBuffer(body) ? body : body === undefined ? undefined : JSON.stringify(body);
    const r = await httpRequest(this.port, urlPath, {
      method,
      agent: false,
      body: raw as string | undefined,
      headers: {
        "x-forwarded-for": "198.51.100.7",
        "x-forwarded-proto": "https",
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(raw !== undefined && !Buffer.isBuffer(body) ? { "content-type": "application/json" } : {}),
        ...headers,
      },
    });
    let json: any;
    try {
      json = JSON.parse(r.body);
    } catch {
      json = undefined;
    }
    return { ...r, json } as Answer;
  }

  /** Bytes of a download (httpRequest decodes text; media must stay binary). */
  async download(urlPath: string): Promise<{ status: number; body: Buffer; headers: any }> {
    const http = await import("http");
    this.count();
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: this.port,
          path: urlPath,
          agent: false,
          headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (d) => chunks.push(d));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
          );
        },
      );
      req.on("error", reject);
      req.end();
    });
  }
}

/** Synapse's shared-secret registration MAC (HMAC-SHA1 over nonce, user, password and the admin flag). */
export function registrationMac(
  secret: string,
  nonce: string,
  user: string,
  password: string,
  admin: boolean,
): string {
  return createHmac("sha1", secret)
    .update(`${nonce}\0${user}\0${password}\0${admin ? "admin" : "notadmin"}`)
    .digest("hex");
}

/** Registers a user through /_synapse/admin/v1/register with the shared secret. */
export async function registerWithSecret(
  c: MatrixClient,
  secret: string,
  user: string,
  password: string,
  admin: boolean,
): Promise<Answer> {
  const nonce = (await c.call("GET", "/_synapse/admin/v1/register")).json.nonce;
  const mac = registrationMac(secret, nonce, user, password, admin);
  return c.call("POST", "/_synapse/admin/v1/register", { nonce, username: user, password, admin, mac });
}

/** One request as HAProxy's httplog line records it. */
export interface Logged {
  backend: string;
  server: string;
  status: number;
  method: string;
  path: string;
}

/** Every request line of HAProxy's log (option httplog, `log stdout format raw`). */
export function haproxyLog(output: string): Logged[] {
  const re = / synapse (\S+)\/(\S+) \S+ (\d{3}) .*"([A-Z]+) (\S+) HTTP\/[0-9.]+"$/;
  return output
    .split("\n")
    .map((l) => re.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ backend: m[1], server: m[2], status: Number(m[3]), method: m[4], path: m[5] }));
}
