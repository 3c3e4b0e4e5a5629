// GET /metrics: what an operator watches (queue depth, turn latency and outcomes,
// job and webhook failures, HTTP traffic, sockets), scraped from a real server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { namespaces } from "../../client-kit/index.ts";
import { startOpenAiFake, type OpenAiFake } from "../fakes/index.ts";
import { addModel, createChat, waitForStatus } from "../support/chats.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent } from "../support/socket.ts";
import { waitFor } from "../support/wait.ts";
import { describeModes, serviceModes } from "../support/modes.ts";

const modes = serviceModes();

const TOKEN = "metrics-token-0123456789";

/** One sample's value, matched by metric name and exact label set (as Prometheus prints them, sorted by us). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (JSON.stringify(Object.entries(got).sort()) === JSON.stringify(Object.entries(labels).sort())) return Number(m[3]);
  }
  return undefined;
}

describeModes(modes, "metrics on $db (redis: $redis)", (mode) => {
  let srv: TestServer;
  let broken: OpenAiFake;
  let brokenModelId: string;
  const scrape = async () => {
    const res = await srv.api("/metrics", { key: null, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };
  beforeAll(async () => {
    broken = await startOpenAiFake({ defaultReply: { fail: { status: 400 } } });
    srv = await startTestServer({ ...mode, env: { METRICS_TOKEN: TOKEN } });
    brokenModelId = (await addModel(srv, { kind: "openai", base_url: broken.baseURL, api_key: "sk-broken" })).modelId;
  });
  afterAll(async () => {
    await srv?.close();
    await broken?.close();
  });

  it("needs the bearer token when METRICS_TOKEN is set; an API key is not enough", async () => {
    expect((await srv.api("/metrics", { key: null })).status).toBe(401);
    const withApiKey = await srv.api("/metrics");
    expect(withApiKey.status).toBe(401);
    expect(((await withApiKey.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
  });

  it("counts turns by outcome with their latency, errors by kind, jobs per queue, HTTP by route pattern and sockets", async () => {
    const before = await scrape();
    const waitingBefore = sample(before, "switchboard_turns_total", { outcome: "waiting" }) ?? 0;
    const { chat } = await createChat(srv, { content: "hello metrics" });
    await waitForStatus(srv, chat.id, "waiting");
    const failed = await createChat(srv, { content: "fail", model_config_id: brokenModelId });
    await waitForStatus(srv, failed.chat.id, "error");
    await srv.api(`/api/v1/chats/${chat.id}`);
    const sock = srv.socket(namespaces.chats);
    await nextEvent(sock, "connect");

    let text = "";
    await waitFor(async () => {
      text = await scrape();
      return (sample(text, "switchboard_jobs_completed_total", { queue: "turns" }) ?? 0) >= 2;
    });
    expect(sample(text, "switchboard_turns_total", { outcome: "waiting" })).toBe(waitingBefore + 1);
    expect(sample(text, "switchboard_turns_total", { outcome: "error" })).toBeGreaterThanOrEqual(1);
    const errorKind = ((await srv.db.prisma.chat.findUniqueOrThrow({ where: { id: failed.chat.id } })).lastError as { kind: string }).kind;
    expect(sample(text, "switchboard_turn_errors_total", { kind: errorKind })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "switchboard_turn_duration_seconds_count", { outcome: "waiting" })).toBe(waitingBefore + 1);
    expect(sample(text, "switchboard_turn_first_token_seconds_count")).toBeGreaterThanOrEqual(1);
    // Queue depth for every queue, read from the driver at scrape time.
    for (const queue of ["turns", "promotions", "titles", "summaries", "webhooks", "auto_archive", "purge"]) {
      expect(sample(text, "switchboard_queue_jobs", { queue, state: "waiting" }), queue).toBeGreaterThanOrEqual(0);
      expect(sample(text, "switchboard_queue_jobs", { queue, state: "delayed" }), queue).toBeGreaterThanOrEqual(0);
    }
    expect(sample(text, "switchboard_http_requests_total", { method: "POST", route: "/api/v1/chats", status: "201" })).toBeGreaterThanOrEqual(2);
    expect(sample(text, "switchboard_http_requests_total", { method: "GET", route: "/api/v1/chats/:chat_id", status: "200" })).toBeGreaterThanOrEqual(1);
    // Raw ids never become labels.
    expect(text).not.toContain(chat.id);
    expect(sample(text, "switchboard_socket_connections", { namespace: "/chats" })).toBe(1);
    expect(sample(text, "switchboard_process_resident_memory_bytes")).toBeGreaterThan(0);
    sock.close();
  });

  it("an unmatched path is one series, not one per path", async () => {
    await srv.api("/nope/a");
    await srv.api("/nope/b");
    const text = await scrape();
    expect(sample(text, "switchboard_http_requests_total", { method: "GET", route: "unmatched", status: "404" })).toBeGreaterThanOrEqual(2);
    expect(text).not.toContain("/nope/");
  });
});

describe("metrics when the queues cannot be counted", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ db: "pglite" });
  });
  afterAll(() => srv?.close());

  it("a scrape still answers, without the queue depth, once the queue driver is closed", async () => {
    await srv.workers.stop();
    await srv.queues.close({ timeoutMs: 2_000 });
    const res = await srv.api("/metrics", { key: null });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(sample(text, "switchboard_queue_jobs", { queue: "turns", state: "waiting" })).toBeUndefined();
    expect(sample(text, "switchboard_process_resident_memory_bytes")).toBeGreaterThan(0);
  });
});
