// A TCP proxy (node:net) for outage tests: put it between a client and a real
// service (Postgres, a Switchboard node), then cut it like a failing network and
// mend it again. `retarget` points new connections elsewhere, as a load balancer
// sending a reconnecting client to another node would.
import net from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /**
   * Destroys every open connection; until `restore`, new ones are refused (ECONNREFUSED),
   * or with "reset" accepted and dropped, or with "stall" accepted and never answered.
   */
  break(mode?: "refuse" | "reset" | "stall"): Promise<void>;
  restore(): Promise<void>;
  retarget(port: number): void;
  /** Connections the proxy is carrying now. */
  readonly open: number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const host = target.host ?? "127.0.0.1";
  let targetPort = target.port;
  let mode: "pass" | "reset" | "stall" = "pass";
  const pairs = new Set<net.Socket>();
  const stalled = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (mode === "reset") return void client.destroy();
    if (mode === "stall") {
      stalled.add(client);
      client.on("error", () => {}).on("close", () => stalled.delete(client));
      return;
    }
    const upstream = net.connect(targetPort, host);
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(client);
    };
    pairs.add(client);
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const stopListening = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    via(url) {
      const u = new URL(url);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    async break(how = "refuse") {
      mode = how === "stall" ? "stall" : "reset"; // nothing new gets through while the open ones are cut
      for (const c of [...pairs]) c.destroy();
      if (how === "refuse") await stopListening();
    },
    async restore() {
      mode = "pass";
      for (const c of [...stalled]) c.destroy();
      if (!server.listening) await listen(port);
    },
    retarget(p) {
      targetPort = p;
    },
    get open() {
      return pairs.size;
    },
    async close() {
      for (const c of [...pairs, ...stalled]) c.destroy();
      await stopListening();
    },
  };
}
