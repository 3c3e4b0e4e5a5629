// Titles and turn summaries from the quick-generation model, on the queue drivers.
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { namespaces, type WatchEvent } from "../../client-kit/index.ts";
import { startOpenAiFake, type OpenAiFake, type ReceivedRequest } from "../fakes/index.ts";
import { addModel, createChat, getChat, waitForStatus } from "../support/chats.ts";
import { body, startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent } from "../support/socket.ts";
import { waitFor } from "../support/wait.ts";
import { TURN_FINISHED_FALLBACK } from "../../src/notifications/turn-finished.ts";
import { describeModes, serviceModes } from "../support/modes.ts";

const modes = serviceModes();

const prompt = (req: ReceivedRequest) => JSON.stringify((req.body as { messages: unknown[] }).messages);

describeModes(modes, "titles and summaries on $db (redis: $redis)", (mode) => {
  let srv: TestServer;
  let quick: OpenAiFake;
  let slow: OpenAiFake;
  let slowModelId: string;
  let quickModelId: string;
  beforeAll(async () => {
    slow = await startOpenAiFake({ defaultReply: { text: "one two three four five six seven eight nine ten", tokenDelayMs: 150 } });
    quick = await startOpenAiFake({
      defaultReply: (req) =>
        prompt(req).includes("whole conversation")
          ? { text: "“The Whole Deployment Story.”" }
          : prompt(req).includes("Write a short title")
            ? { text: '"Deploying the app"' }
            : prompt(req).includes("BLANK")
              ? { text: "   " }
              : { text: "Explained the\ndeployment steps" },
    });
    srv = await startTestServer(mode);
    // The quick-generation model: a cheap model for titles and summaries.
    quickModelId = (await addModel(srv, { kind: "openai", base_url: quick.baseURL, api_key: "sk-quick", quick_generation: true })).modelId;
    slowModelId = (await addModel(srv, { kind: "openai", base_url: slow.baseURL, api_key: "sk-slow" })).modelId;
  });
  afterAll(async () => {
    await srv?.close();
    await quick?.close();
    await slow?.close();
  });

  it("names a chat after its first turn and stores a one-line turn summary without bumping updated_at", async () => {
    const dash = srv.socket(namespaces.chats);
    await nextEvent(dash, "connect");
    const titled = nextEvent<WatchEvent>(dash, "chat:title", 15_000);
    const summarized = nextEvent<WatchEvent>(dash, "chat:summary", 15_000);
    const { chat } = await createChat(srv, { content: "how do I deploy this app?" });
    expect((await getChat(srv, chat.id)).title).toBe("how do I deploy this app?");
    await waitForStatus(srv, chat.id, "waiting");
    const afterTurn = (await getChat(srv, chat.id)).updated_at;
    expect((await titled).chat).toMatchObject({ title: "Deploying the app", title_source: "generated" });
    expect((await summarized).chat.last_turn_summary).toBe("Explained the deployment steps");
    const c = await getChat(srv, chat.id);
    expect(c.updated_at).toBe(afterTurn);
  });

  it("never overwrites a title the user set", async () => {
    const { chat } = await createChat(srv, { content: "anything", title: "My own title" });
    await waitForStatus(srv, chat.id, "waiting");
    await waitFor(async () => (await getChat(srv, chat.id)).last_turn_summary !== null);
    expect((await getChat(srv, chat.id)).title).toBe("My own title");
  });

  it("blank summaries store null; errors and stops clear the summary", async () => {
    const { chat } = await createChat(srv, { content: "first" });
    await waitFor(async () => (await getChat(srv, chat.id)).last_turn_summary !== null, { timeoutMs: 15_000 });
    // An error clears it.
    await srv.db.prisma.chat.update({ where: { id: chat.id }, data: { status: "running", workerId: "w" } });
    const store = (await import("../../src/turns/turn-store.ts")).TurnStore;
    const ts = new store(srv.db.prisma, srv.events);
    const c0 = await srv.db.prisma.chat.findUniqueOrThrow({ where: { id: chat.id } });
    await ts.finish(
      { chatId: chat.id, workerId: "w", historyVersion: c0.historyVersion },
      { status: "error", error: { message: "x", kind: "generic", provider: "p", retryable: false, status_code: null, detail: null } },
    );
    expect((await getChat(srv, chat.id)).last_turn_summary).toBeNull();
    // A normal turn stores a summary again; a blank model answer then stores null (not "").
    await srv.api(`/api/v1/chats/${chat.id}/messages`, { method: "POST", json: { content: "again" } });
    await waitFor(async () => (await getChat(srv, chat.id)).last_turn_summary !== null, { timeoutMs: 15_000 });
    const before = quick.requests.length;
    await srv.api(`/api/v1/chats/${chat.id}/messages`, { method: "POST", json: { content: "BLANK please" } });
    await waitFor(() => quick.requests.slice(before).some((r) => prompt(r).includes("BLANK") && r.outcome === "completed"), { timeoutMs: 15_000 });
    await waitFor(async () => (await getChat(srv, chat.id)).last_turn_summary === null, { timeoutMs: 5_000 });
  });

  it("a stopped turn clears the summary and gets no new one (nor a turn-finished notification)", async () => {
    const { chat } = await createChat(srv, { content: "summarize me first" });
    await waitFor(async () => (await getChat(srv, chat.id)).last_turn_summary !== null, { timeoutMs: 15_000 });
    const summariesBefore = quick.requests.filter((r) => prompt(r).includes("say what the assistant did")).length;
    await srv.api(`/api/v1/chats/${chat.id}/messages`, { method: "POST", json: { content: "a long answer please", model_config_id: slowModelId } });
    await waitFor(() => slow.requests.some((r) => r.firstTokenAt !== null && r.outcome === "streaming"), { timeoutMs: 10_000 });
    expect((await srv.api(`/api/v1/chats/${chat.id}/interrupt`, { method: "POST" })).status).toBe(200);
    await waitForStatus(srv, chat.id, "waiting");
    expect((await getChat(srv, chat.id)).last_turn_summary).toBeNull();
    // No summary can come: a stopped turn writes no summary row (state, not a sleep).
    expect(await srv.db.prisma.outboxJob.count({ where: { jobKey: { startsWith: `summary-${chat.id}-` } } })).toBe(0);
    expect(quick.requests.filter((r) => prompt(r).includes("say what the assistant did")).length).toBe(summariesBefore);
    const notes = await srv.db.prisma.notification.findMany({ where: { chatId: chat.id } });
    expect(notes.map((n) => n.kind)).toEqual(["turn_finished"]); // the first turn's only
  });

  it("with the server's clock a year ahead, title and summary writes still leave updated_at alone", async () => {
    const { chat } = await createChat(srv, { content: "clockwork question" });
    await waitFor(async () => (await getChat(srv, chat.id)).last_turn_summary !== null, { timeoutMs: 15_000 });
    // Undo the automatic title so the title job has work again.
    await srv.db.prisma.chat.update({ where: { id: chat.id }, data: { title: "clockwork question", titleSource: "fallback", lastTurnSummary: null } });
    const before = await getChat(srv, chat.id);
    const texts = new (await import("../../src/chats/generated-text-service.ts")).GeneratedTextService(srv.db.prisma, srv.secrets, srv.events);
    // Only Date is faked: timers and I/O run as usual, so the fake provider still answers.
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2027-12-01T00:00:00Z") });
    try {
      expect((await texts.autoTitle(chat.id))?.title).toBe("Deploying the app");
      expect((await texts.summarize(chat.id, before.history_version))?.last_turn_summary).toBe("Explained the deployment steps");
    } finally {
      vi.useRealTimers();
    }
    const after = await getChat(srv, chat.id);
    expect(after.updated_at).toBe(before.updated_at);
    expect(after.version).toBeGreaterThan(before.version);
  });

  it("with only the echo model usable, no titles or summaries are written (echo would only repeat the prompt); the notification says so generically", async () => {
    // Echo is chosen only when no real model is usable: disable both real ones.
    for (const id of [quickModelId, slowModelId]) await srv.api(`/api/v1/model-configs/${id}`, { method: "PATCH", json: { enabled: false } });
    try {
      const { chat } = await createChat(srv, { content: "echo only" }); // the default echo model
      await waitFor(async () => (await srv.db.prisma.notification.count({ where: { chatId: chat.id } })) === 1, { timeoutMs: 15_000 });
      const n = await srv.db.prisma.notification.findFirstOrThrow({ where: { chatId: chat.id } });
      expect(n.body).toBe(TURN_FINISHED_FALLBACK);
      const c = await getChat(srv, chat.id);
      expect(c).toMatchObject({ title: "echo only", title_source: "fallback", last_turn_summary: null });
      const res = await srv.api(`/api/v1/chats/${chat.id}/title/regenerate`, { method: "POST" });
      expect(res.status).toBe(422);
      expect((await body(res)).error.message).toMatch(/echo model/);
    } finally {
      for (const id of [quickModelId, slowModelId]) await srv.api(`/api/v1/model-configs/${id}`, { method: "PATCH", json: { enabled: true } });
    }
  });

  it("one quick-generation model per organization: marking one unmarks the other, and the database refuses two", async () => {
    const quickOnes = async () =>
      (await body(await srv.api("/api/v1/model-configs"))).model_configs
        .filter((m: { quick_generation: boolean }) => m.quick_generation)
        .map((m: { id: string }) => m.id);
    expect(await quickOnes()).toEqual([quickModelId]); // the echo model gave the mark up too
    const other = (await addModel(srv, { kind: "openai", base_url: quick.baseURL, api_key: "sk-quick", quick_generation: true })).modelId;
    expect(await quickOnes()).toEqual([other]);
    expect((await srv.api(`/api/v1/model-configs/${quickModelId}`, { method: "PATCH", json: { quick_generation: true } })).status).toBe(200);
    expect(await quickOnes()).toEqual([quickModelId]);
    await expect(srv.db.prisma.modelConfig.update({ where: { id: other }, data: { quickGeneration: true } })).rejects.toThrow();
    expect(await quickOnes()).toEqual([quickModelId]);
  });

  it("the built-in echo model yields to the first real model: titles and summaries come from it", async () => {
    const fresh = await startTestServer(mode);
    try {
      const models = async () =>
        (await body(await fresh.api("/api/v1/model-configs"))).model_configs as { id: string; model: string; is_default: boolean; quick_generation: boolean }[];
      const [echo] = await models();
      expect([echo!.model, echo!.is_default, echo!.quick_generation]).toEqual(["echo", true, true]);
      // A real provider, marked neither default nor quick: echo stays the default for chats, not for titles.
      const { modelId } = await addModel(fresh, { kind: "openai", base_url: quick.baseURL, api_key: "sk-quick" });
      expect((await models()).map((m) => [m.model, m.is_default, m.quick_generation])).toEqual([
        ["echo", true, false],
        ["openai-model", false, false],
      ]);
      const before = quick.requests.length;
      const { chat } = await createChat(fresh, { content: "how do I deploy this app?" }); // runs on echo
      const named = await waitFor(
        async () => {
          const c = await getChat(fresh, chat.id);
          return c.title_source === "generated" && c.last_turn_summary !== null ? c : null;
        },
        { timeoutMs: 15_000, message: "no title or summary from the real model" },
      );
      expect(named).toMatchObject({ title: "Deploying the app", last_turn_summary: "Explained the deployment steps", last_model_config_id: echo!.id });
      expect(quick.requests.slice(before).every((r) => (r.body as { model: string }).model === "openai-model")).toBe(true);
      // Marking it the default takes that from echo too.
      expect((await fresh.api(`/api/v1/model-configs/${modelId}`, { method: "PATCH", json: { is_default: true } })).status).toBe(200);
      expect((await models()).map((m) => [m.model, m.is_default])).toEqual([
        ["echo", false],
        ["openai-model", true],
      ]);
    } finally {
      await fresh.close();
    }
  });

  it("a stale summary never overwrites a newer turn's (history_version guard)", async () => {
    const { chat } = await createChat(srv, { content: "guarded" });
    await waitForStatus(srv, chat.id, "waiting");
    const c = await srv.db.prisma.chat.findUniqueOrThrow({ where: { id: chat.id } });
    const texts = (await import("../../src/chats/generated-text-service.ts")).GeneratedTextService;
    const svc = new texts(srv.db.prisma, srv.secrets, srv.events);
    expect(await svc.summarize(chat.id, c.historyVersion - 1)).toBeNull();
  });

  it("regenerates a title from the whole conversation over REST and the socket; 404 and 409 as specified", async () => {
    const { chat } = await createChat(srv, { content: "turn one" });
    await waitForStatus(srv, chat.id, "waiting");
    const res = await srv.api(`/api/v1/chats/${chat.id}/title/regenerate`, { method: "POST" });
    expect(res.status).toBe(200);
    expect((await body(res)).title).toBe("The Whole Deployment Story");
    const sock = srv.socket(namespaces.chat);
    await nextEvent(sock, "connect");
    const ack = await sock.timeout(10_000).emitWithAck("title:regenerate", { chat_id: chat.id });
    expect(ack).toMatchObject({ ok: true, data: { title: "The Whole Deployment Story" } });
    const other = await body(await srv.api("/api/v1/users", { method: "POST", json: { email: `t${Date.now()}@x.test`, name: "T" } }));
    expect((await srv.api(`/api/v1/chats/${chat.id}/title/regenerate`, { method: "POST", key: other.api_key })).status).toBe(404);
    await srv.api(`/api/v1/chats/${chat.id}/archive`, { method: "POST" });
    expect((await srv.api(`/api/v1/chats/${chat.id}/title/regenerate`, { method: "POST" })).status).toBe(409);
  });
});
