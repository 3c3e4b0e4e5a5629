// The HTTP leg of a webhook delivery: one POST over node:http(s) whose connection may
// only go to a public address (src/domain/network-policy.ts) unless private networks
// are allowed. The check runs on the address actually connected to — a `lookup` that
// refuses names resolving to a non-public address, and a direct check of IP-literal
// hosts, which net.connect never looks up — so a name re-pointed after the URL was
// accepted (DNS rebinding) cannot steer a delivery into the network.
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { hostAddress, isNonPublicHostname, isPublicAddress } from "../domain/network-policy.ts";

/** The destination is not a public address; another attempt would get the same answer. */
export class WebhookDestinationError extends Error {
  override name = "WebhookDestinationError";
  constructor() {
    // Neither the address nor the URL: both reach logs and the user's inbox.
    super("webhook destination is not allowed (private network address)");
  }
}

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/**
 * Resolves every address of the name (whatever family net.connect asked for) and refuses
 * the connection if any is not public: net may try them all (happy eyeballs).
 */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
    if (err) return callback(err, []);
    if (addresses.length === 0 || !addresses.every((a) => isPublicAddress(a.address))) return callback(new WebhookDestinationError(), []);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

export class WebhookTransport {
  private readonly http: http.Agent;
  private readonly https: https.Agent;

  constructor(private readonly allowPrivateNetworks: boolean) {
    // Kept-alive connections as fetch had; each was checked when it connected.
    const opts = { keepAlive: true, ...(!allowPrivateNetworks && { lookup: publicOnlyLookup }) };
    this.http = new http.Agent(opts);
    this.https = new https.Agent(opts);
  }

  /** Whether the URL's host is refused before resolving anything (an IP literal or a localhost name). */
  refusesHost(url: string): boolean {
    return !this.allowPrivateNetworks && isNonPublicHostname(new URL(url).hostname);
  }

  /**
   * POSTs and resolves with the answer's status once its headers arrive; the answer's body is
   * read and discarded. Redirects are answers (node:http follows none). Rejects with
   * WebhookDestinationError for a refused destination, otherwise with the request's error.
   */
  post(r: WebhookRequest): Promise<number> {
    const url = new URL(r.url);
    const literal = hostAddress(url.hostname);
    if (!this.allowPrivateNetworks && literal !== null && !isPublicAddress(literal)) return Promise.reject(new WebhookDestinationError());
    const secure = url.protocol === "https:";
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(
        url,
        {
          method: "POST",
          agent: secure ? this.https : this.http,
          signal: r.signal,
          headers: { ...r.headers, "content-length": String(Buffer.byteLength(r.body)) },
        },
        (res) => {
          // Drained (not destroyed) so the connection can be reused; the signal still bounds it.
          res.on("error", () => {});
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on("error", reject);
      req.end(r.body);
    });
  }
}
