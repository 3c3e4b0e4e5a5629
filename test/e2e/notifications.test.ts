// Turn-end notifications (finished with the summary, failed with the error) and
// their webhook delivery: signed POSTs to a local receiver, retried with backoff by
// the `webhooks` queue, on both queue drivers. The local receivers need
// WEBHOOK_ALLOW_PRIVATE_NETWORKS; without it, loopback destinations are refused.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { namespaces } from "../../client-kit/index.ts";
import type { NotificationView } from "../../client-kit/protocol.ts";
import { startOpenAiFake, type OpenAiFake, type ReceivedRequest } from "../fakes/index.ts";
import { addModel, createChat, getChat } from "../support/chats.ts";
import { body, startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent } from "../support/socket.ts";
import { waitFor } from "../support/wait.ts";
import { verifyWebhook } from "../../src/domain/webhook-signature.ts";
import { Notifications } from "../../src/notifications/notifications.ts";
import { TURN_FINISHED_FALLBACK, TurnFinishedNotifier } from "../../src/notifications/turn-finished.ts";
import { describeModes, dbModes, serviceModes } from "../support/modes.ts";

const modes = serviceModes();

const BACKOFF_MS = 100;
const prompt = (req: ReceivedRequest) => JSON.stringify((req.body as { messages: unknown[] }).messages);
const isSummaryPrompt = (req: ReceivedRequest) => prompt(req).includes("say what the assistant did");

interface Delivery {
  headers: IncomingHttpHeaders;
  raw: string;
  at: number;
}

/** A local webhook receiver: records every POST and answers with the next scripted status (then 200). */
async function startReceiver() {
  const hits: Delivery[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (raw += c));
    req.on("end", () => {
      hits.push({ headers: req.headers, raw, at: Date.now() });
      res.writeHead(statuses.shift() ?? 200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/switchboard?token=abc`;
  return { url, hits, statuses, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function inbox(srv: TestServer, key: string): Promise<NotificationView[]> {
  return (await body(await srv.api("/api/v1/notifications", { key }))).notifications;
}

async function newUser(srv: TestServer): Promise<string> {
  const u = await body(await srv.api("/api/v1/users", { method: "POST", json: { email: `n${Date.now()}${Math.random()}@x.test`, name: "N" } }));
  return u.api_key as string;
}

describeModes(modes, "turn notifications and webhooks on $db (redis: $redis)", (mode) => {
  let srv: TestServer;
  let quick: OpenAiFake;
  let broken: OpenAiFake;
  let brokenModelId: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    quick = await startOpenAiFake({
      defaultReply: (req) =>
        isSummaryPrompt(req) ? (prompt(req).includes("NOSUMMARY") ? { fail: { status: 400 } } : { text: "Answered the question" }) : { text: "A title" },
    });
    broken = await startOpenAiFake({
      defaultReply: { fail: { status: 400, body: { error: { message: "model does not exist", type: "invalid_request_error" } } } },
    });
    receiver = await startReceiver();
    srv = await startTestServer({ ...mode, env: { WEBHOOK_BACKOFF_MS: String(BACKOFF_MS), WEBHOOK_ATTEMPTS: "4", WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" } });
    await addModel(srv, { kind: "openai", base_url: quick.baseURL, api_key: "sk-quick", quick_generation: true });
    brokenModelId = (await addModel(srv, { kind: "openai", base_url: broken.baseURL, api_key: "sk-broken" })).modelId;
  });
  afterAll(async () => {
    await srv?.close();
    await quick?.close();
    await broken?.close();
    await receiver?.close();
  });

  it("a finished turn notifies its owner once, with the turn summary as the body (one model call)", async () => {
    const key = await newUser(srv);
    const dash = srv.socket(namespaces.chats, key);
    await nextEvent(dash, "connect");
    const pushed = nextEvent<NotificationView>(dash, "notification", 15_000);
    const { chat } = await createChat(srv, { content: "what is ONE-CALL-MARKER?" }, key);
    const n = await pushed;
    expect(n).toMatchObject({ kind: "turn_finished", chat_id: chat.id, body: "Answered the question", read_at: null });
    expect((await getChat(srv, chat.id, key)).last_turn_summary).toBe("Answered the question");
    expect((await inbox(srv, key)).map((x) => x.id)).toEqual([n.id]);
    expect(quick.requests.filter((r) => isSummaryPrompt(r) && prompt(r).includes("ONE-CALL-MARKER"))).toHaveLength(1);
    // A retried job (or a second worker) creates nothing twice.
    const c = await getChat(srv, chat.id, key);
    const notes = new TurnFinishedNotifier(srv.db.prisma, new Notifications(srv.db.prisma, srv.events));
    expect(await notes.notify(chat.id, c.history_version, "again")).toBeNull();
    expect(await inbox(srv, key)).toHaveLength(1);
    dash.close();
  });

  it("when the summary cannot be generated, the notification says so generically and no summary is stored", async () => {
    const key = await newUser(srv);
    const { chat } = await createChat(srv, { content: "NOSUMMARY please" }, key);
    await waitFor(async () => (await inbox(srv, key)).length === 1, { timeoutMs: 15_000 });
    const [n] = await inbox(srv, key);
    expect(n).toMatchObject({ kind: "turn_finished", chat_id: chat.id, body: TURN_FINISHED_FALLBACK, data: { summarized: false } });
    expect((await getChat(srv, chat.id, key)).last_turn_summary).toBeNull();
    // Both attempts asked the model; neither wrote the fallback as a summary.
    expect(quick.requests.filter((r) => isSummaryPrompt(r) && prompt(r).includes("NOSUMMARY")).length).toBe(2);
  });

  it("a failed turn notifies with the error, and no summary is asked for", async () => {
    const key = await newUser(srv);
    const { chat } = await createChat(srv, { content: "this will fail", model_config_id: brokenModelId }, key);
    await waitFor(async () => (await getChat(srv, chat.id, key)).status === "error", { timeoutMs: 15_000 });
    await waitFor(async () => (await inbox(srv, key)).length === 1, { timeoutMs: 10_000 });
    const [n] = await inbox(srv, key);
    expect(n!.kind).toBe("turn_failed");
    expect(n!.chat_id).toBe(chat.id);
    const c = await getChat(srv, chat.id, key);
    expect(n!.body).toBe(`The turn failed: ${c.last_error.message}`);
    expect(n!.data).toMatchObject({ error_kind: c.last_error.kind });
    expect(quick.requests.some((r) => isSummaryPrompt(r) && prompt(r).includes("this will fail"))).toBe(false);
  });

  it("the inbox pages newest first with a cursor, counts unread, and marks all read", async () => {
    const key = await newUser(srv);
    const me = (await body(await srv.api("/api/v1/me", { key }))).user;
    const other = await newUser(srv);
    const notes = new Notifications(srv.db.prisma, srv.events);
    const org = (await body(await srv.api("/api/v1/organization", { key }))).id;
    for (let i = 0; i < 5; i++) await notes.create({ userId: me.id, organizationId: org, kind: "turn_finished", title: `n${i}`, body: "b" });
    const page1 = await body(await srv.api("/api/v1/notifications?limit=2", { key }));
    expect(page1.notifications.map((n: NotificationView) => n.title)).toEqual(["n4", "n3"]);
    expect(page1.unread_count).toBe(5);
    const page2 = await body(await srv.api(`/api/v1/notifications?limit=2&before=${page1.next_cursor}`, { key }));
    expect(page2.notifications.map((n: NotificationView) => n.title)).toEqual(["n2", "n1"]);
    const page3 = await body(await srv.api(`/api/v1/notifications?limit=2&before=${page2.next_cursor}`, { key }));
    expect(page3.notifications.map((n: NotificationView) => n.title)).toEqual(["n0"]);
    expect(page3.next_cursor).toBeNull();
    // Someone else's notification is not a cursor (and says nothing about it).
    const foreign = await srv.api(`/api/v1/notifications?before=${page1.next_cursor}`, { key: other });
    expect(foreign.status).toBe(400);
    expect((await srv.api("/api/v1/notifications?before=nope", { key })).status).toBe(400);
    await srv.api(`/api/v1/notifications/${page1.notifications[0].id}/read`, { method: "POST", key });
    expect((await body(await srv.api("/api/v1/notifications", { key }))).unread_count).toBe(4);
    const readAll = () => srv.api("/api/v1/notifications/read-all", { method: "POST", key, headers: { "idempotency-key": "read-all-1" } });
    expect(await body(await readAll())).toEqual({ marked: 4 });
    // The same key replays the first answer; a new request marks nothing more.
    expect(await body(await readAll())).toEqual({ marked: 4 });
    expect(await body(await srv.api("/api/v1/notifications/read-all", { method: "POST", key }))).toEqual({ marked: 0 });
    const after = await body(await srv.api("/api/v1/notifications?unread=true", { key }));
    expect(after).toMatchObject({ notifications: [], unread_count: 0 });
  });

  it("webhook settings: http(s) only, secret required first and never returned; bad input changes nothing", async () => {
    const key = await newUser(srv);
    for (const url of ["ftp://example.com/hook", "javascript:alert(1)", "file:///etc/passwd", "not a url", "https://user:pass@example.com/hook"]) {
      const res = await srv.api("/api/v1/me/webhook", { method: "PUT", key, json: { url, secret: "s".repeat(32) } });
      expect(res.status).toBe(400);
      expect((await body(res)).error.code).toBe("validation_failed");
    }
    expect((await srv.api("/api/v1/me/webhook", { method: "PUT", key, json: { url: receiver.url, secret: "short" } })).status).toBe(400);
    const noSecret = await srv.api("/api/v1/me/webhook", { method: "PUT", key, json: { url: receiver.url } });
    expect(noSecret.status).toBe(422);
    expect(await body(await srv.api("/api/v1/me/webhook", { key }))).toEqual({ url: null, secret_set: false });
    const secret = `whsec-${"k".repeat(30)}`;
    const set = await srv.api("/api/v1/me/webhook", { method: "PUT", key, json: { url: receiver.url, secret } });
    expect(set.status).toBe(200);
    const text = await set.text();
    expect(text).not.toContain(secret);
    expect(JSON.parse(text)).toEqual({ url: receiver.url, secret_set: true });
    // Changing only the URL keeps the secret.
    const moved = await body(await srv.api("/api/v1/me/webhook", { method: "PUT", key, json: { url: "https://hooks.example.com/x" } }));
    expect(moved).toEqual({ url: "https://hooks.example.com/x", secret_set: true });
    // A test ping: signed, sent once, only the outcome reported to a member.
    await srv.api("/api/v1/me/webhook", { method: "PUT", key, json: { url: receiver.url } });
    const start = receiver.hits.length;
    const ping = await srv.api("/api/v1/me/webhook/test", { method: "POST", key });
    expect(ping.status).toBe(200);
    expect(await body(ping)).toEqual({ delivered: true });
    const hit = receiver.hits[start]!;
    expect(hit.headers["switchboard-event"]).toBe("ping");
    expect(verifyWebhook(secret, hit.raw, hit.headers["switchboard-signature"] as string)).toBe(true);
    expect(JSON.parse(hit.raw)).toMatchObject({ type: "ping", delivery_id: hit.headers["switchboard-delivery"] });
    receiver.statuses.push(500);
    const retriedTest = () => srv.api("/api/v1/me/webhook/test", { method: "POST", key, headers: { "idempotency-key": "ping-2" } });
    expect(await body(await retriedTest())).toEqual({ delivered: false });
    expect(await body(await retriedTest())).toEqual({ delivered: false }); // replayed, not re-sent
    expect(receiver.hits.length - start).toBe(2); // a test is never retried
    // An admin also sees the receiver's answer.
    await srv.api("/api/v1/me/webhook", { method: "PUT", json: { url: receiver.url, secret } });
    receiver.statuses.push(500);
    expect(await body(await srv.api("/api/v1/me/webhook/test", { method: "POST" }))).toEqual({ delivered: false, error: "webhook answered 500" });
    expect(await body(await srv.api("/api/v1/me/webhook/test", { method: "POST" }))).toEqual({ delivered: true, error: null });
    // A network error is reported by its code: node's message would name the address and port.
    const closed = await startReceiver();
    await closed.close();
    await srv.api("/api/v1/me/webhook", { method: "PUT", json: { url: closed.url } });
    expect(await body(await srv.api("/api/v1/me/webhook/test", { method: "POST" }))).toEqual({
      delivered: false,
      error: "webhook request failed: ECONNREFUSED",
    });
    await srv.api("/api/v1/me/webhook", { method: "DELETE" });
    expect(await body(await srv.api("/api/v1/me/webhook", { method: "DELETE", key }))).toEqual({ url: null, secret_set: false });
    const none = await srv.api("/api/v1/me/webhook/test", { method: "POST", key });
    expect(none.status).toBe(409);
    expect((await srv.api("/api/v1/me/webhook", { key: null })).status).toBe(401);
  });

  it("delivers signed notifications, retrying 5xx answers with doubling backoff under the same delivery id", async () => {
    const key = await newUser(srv);
    const secret = "a-very-secret-signing-key";
    expect((await srv.api("/api/v1/me/webhook", { method: "PUT", key, json: { url: receiver.url, secret } })).status).toBe(200);
    const start = receiver.hits.length;
    receiver.statuses.push(503, 500);
    const { chat } = await createChat(srv, { content: "deliver me" }, key);
    await waitFor(() => receiver.hits.length - start >= 3, { timeoutMs: 15_000 });
    const hits = receiver.hits.slice(start);
    expect(hits).toHaveLength(3);
    await waitFor(async () => (await inbox(srv, key))[0]?.webhook?.status === "delivered");
    const n = (await inbox(srv, key))[0]!;
    for (const [i, h] of hits.entries()) {
      expect(verifyWebhook(secret, h.raw, h.headers["switchboard-signature"] as string)).toBe(true);
      expect(verifyWebhook("another-secret-entirely", h.raw, h.headers["switchboard-signature"] as string)).toBe(false);
      expect(h.headers["content-type"]).toBe("application/json");
      expect(h.headers["switchboard-event"]).toBe("notification.turn_finished");
      expect(h.headers["switchboard-delivery"]).toBe(n.id);
      expect(h.headers["switchboard-attempt"]).toBe(String(i + 1));
      const { webhook: _, ...sent } = n;
      expect(JSON.parse(h.raw)).toEqual({ type: "notification", notification: sent });
    }
    expect(JSON.parse(hits[0]!.raw).notification).toMatchObject({ chat_id: chat.id, body: "Answered the question" });
    // The inbox shows how the delivery went.
    expect(n.webhook).toEqual({ status: "delivered", attempts: 3, last_error: null });
    // Exponential backoff: at least 1x then 2x the base delay between attempts.
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(BACKOFF_MS - 5);
    expect(hits[2]!.at - hits[1]!.at).toBeGreaterThanOrEqual(2 * BACKOFF_MS - 5);
    // Operators see it in /metrics (open: this server sets no METRICS_TOKEN).
    const metrics = await (await srv.api("/metrics", { key: null })).text();
    expect(Number(/^switchboard_webhook_deliveries_total\{outcome="failed"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(Number(/^switchboard_webhook_deliveries_total\{outcome="delivered"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  });

  it("does not retry an answer that will not change (4xx), gives up after the attempts, and stops once the webhook is removed", async () => {
    const key = await newUser(srv);
    await srv.api("/api/v1/me/webhook", { method: "PUT", key, json: { url: receiver.url, secret: "another-signing-secret" } });
    // 410 Gone: one attempt only.
    let start = receiver.hits.length;
    receiver.statuses.push(410);
    await createChat(srv, { content: "gone" }, key);
    await waitFor(() => receiver.hits.length - start >= 1, { timeoutMs: 15_000 });
    // No retry can follow: the delivery's outbox row is gone (state, not a sleep).
    await waitFor(async () => (await srv.db.prisma.outboxJob.count({ where: { queue: "webhooks" } })) === 0);
    expect(receiver.hits.length - start).toBe(1);
    expect((await inbox(srv, key))[0]!.webhook).toEqual({ status: "failed", attempts: 1, last_error: "webhook answered 410" });
    // Always 503: the configured 4 attempts, then the job is dropped.
    start = receiver.hits.length;
    receiver.statuses.push(503, 503, 503, 503);
    await createChat(srv, { content: "always failing" }, key);
    await waitFor(() => receiver.hits.length - start >= 4, { timeoutMs: 15_000 });
    await waitFor(async () => {
      const c = await srv.queues.counts("webhooks");
      return c.waiting + c.active + c.delayed === 0;
    });
    expect(receiver.hits.length - start).toBe(4);
    await waitFor(async () => (await inbox(srv, key))[0]!.webhook?.status === "failed");
    expect((await inbox(srv, key))[0]!.webhook).toEqual({ status: "failed", attempts: 4, last_error: "webhook answered 503" });
    receiver.statuses.length = 0;
    // Removed: the notification still reaches the inbox, nothing is POSTed.
    await srv.api("/api/v1/me/webhook", { method: "DELETE", key });
    start = receiver.hits.length;
    const before = (await inbox(srv, key)).length;
    await createChat(srv, { content: "quiet now" }, key);
    await waitFor(async () => (await inbox(srv, key)).length === before + 1, { timeoutMs: 15_000 });
    // Without a webhook no delivery is ever written, so none can be made.
    const quiet = (await inbox(srv, key))[0]!;
    expect(quiet.webhook).toBeNull();
    expect(await srv.db.prisma.outboxJob.count({ where: { jobKey: `webhook-${quiet.id}` } })).toBe(0);
    expect(receiver.hits.length - start).toBe(0);
  });
});

describeModes(dbModes(), "webhook destinations without WEBHOOK_ALLOW_PRIVATE_NETWORKS on $db", ({ db }) => {
  let srv: TestServer;
  let quick: OpenAiFake;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const refused = "webhook destination is not allowed (private network address)";
  beforeAll(async () => {
    quick = await startOpenAiFake({ defaultReply: { text: "Done" } });
    receiver = await startReceiver();
    srv = await startTestServer({ db, env: { WEBHOOK_BACKOFF_MS: String(BACKOFF_MS), WEBHOOK_ATTEMPTS: "4" } });
    await addModel(srv, { kind: "openai", base_url: quick.baseURL, api_key: "sk-quick", quick_generation: true });
  });
  afterAll(async () => {
    await srv?.close();
    await quick?.close();
    await receiver?.close();
  });

  /** Points the user's webhook at `url` in the database, as a row predating the PUT check (or a name re-pointed since) would. */
  async function storedWebhook(key: string, url: string): Promise<void> {
    expect((await srv.api("/api/v1/me/webhook", { method: "PUT", key, json: { url: "https://hooks.example.com/x", secret: "s".repeat(32) } })).status).toBe(
      200,
    );
    const me = (await body(await srv.api("/api/v1/me", { key }))).user;
    await srv.db.prisma.user.update({ where: { id: me.id }, data: { webhookUrl: url } });
  }

  it("PUT refuses loopback, private, link-local and unique-local hosts at once; DNS names wait for the send", async () => {
    const key = await newUser(srv);
    const port = new URL(receiver.url).port;
    for (const url of [
      receiver.url,
      `http://localhost:${port}/hook`,
      "http://LOCALHOST./hook",
      "http://api.localhost/hook",
      "http://[::1]/hook",
      "http://[::ffff:127.0.0.1]/hook",
      "http://2130706433/hook", // 127.0.0.1 spelled as one number
      "http://0.0.0.0/hook",
      "http://169.254.169.254/latest/meta-data",
      "http://10.1.2.3/hook",
      "http://172.16.0.1/hook",
      "http://192.168.1.1/hook",
      "http://100.64.0.1/hook",
      "https://[fd00::1]/hook",
      "https://[fe80::1]/hook",
    ]) {
      const res = await srv.api("/api/v1/me/webhook", { method: "PUT", key, json: { url, secret: "s".repeat(32) } });
      expect(res.status, url).toBe(400);
      const err = (await body(res)).error;
      expect(err.code).toBe("validation_failed");
      expect(err.details[0].path).toBe("body.url");
    }
    expect(await body(await srv.api("/api/v1/me/webhook", { key }))).toEqual({ url: null, secret_set: false });
    // Public literals and names are accepted.
    for (const url of ["https://hooks.example.com/x", "https://8.8.8.8/hook", "https://[2001:4860:4860::8888]/hook"]) {
      expect((await srv.api("/api/v1/me/webhook", { method: "PUT", key, json: { url, secret: "s".repeat(32) } })).status, url).toBe(200);
    }
    expect(receiver.hits).toHaveLength(0);
  });

  it("a name that resolves to loopback is refused when the delivery connects: nothing reaches the receiver and the delivery fails at once", async () => {
    const key = await newUser(srv);
    await storedWebhook(key, receiver.url.replace("127.0.0.1", "localhost"));
    await createChat(srv, { content: "notify me" }, key);
    const settled = (status: string | undefined) => status === "failed" || status === "delivered";
    await waitFor(async () => settled((await inbox(srv, key))[0]?.webhook?.status), { timeoutMs: 15_000 });
    expect((await inbox(srv, key))[0]!.webhook).toEqual({ status: "failed", attempts: 1, last_error: refused });
    expect(receiver.hits).toHaveLength(0);
  });

  it("an IP-literal host stored before the check is refused at send time too; a member's test reports only the outcome", async () => {
    const key = await newUser(srv);
    await storedWebhook(key, receiver.url);
    expect(await body(await srv.api("/api/v1/me/webhook/test", { method: "POST", key }))).toEqual({ delivered: false });
    await storedWebhook(srv.adminKey, receiver.url.replace("127.0.0.1", "[::ffff:127.0.0.1]"));
    expect(await body(await srv.api("/api/v1/me/webhook/test", { method: "POST" }))).toEqual({ delivered: false, error: refused });
    await storedWebhook(srv.adminKey, receiver.url.replace("127.0.0.1", "localhost"));
    expect(await body(await srv.api("/api/v1/me/webhook/test", { method: "POST" }))).toEqual({ delivered: false, error: refused });
    expect(receiver.hits).toHaveLength(0);
  });
});

describe("webhook signatures", () => {
  it("verify only the exact body, with the secret, within the tolerance", async () => {
    const { signWebhook } = await import("../../src/domain/webhook-signature.ts");
    const now = 1_800_000_000;
    const sig = signWebhook("secret-1", '{"a":1}', now);
    expect(sig).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook("secret-1", '{"a":1}', sig, now)).toBe(true);
    expect(verifyWebhook("secret-1", '{"a":2}', sig, now)).toBe(false);
    expect(verifyWebhook("secret-2", '{"a":1}', sig, now)).toBe(false);
    expect(verifyWebhook("secret-1", '{"a":1}', sig, now + 301)).toBe(false);
    expect(verifyWebhook("secret-1", '{"a":1}', undefined, now)).toBe(false);
    expect(verifyWebhook("secret-1", '{"a":1}', "t=x,v1=zz", now)).toBe(false);
  });
});
