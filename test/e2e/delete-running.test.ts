// Deleting a chat while its turn streams: the provider request is aborted at once, like
// a stop, in whichever process runs the turn, and the turn's output is discarded. The
// heartbeat is set far out of reach, so only the delete's own signal can end the stream
// before the reply has streamed to its end.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startOpenAiFake, type OpenAiFake, type ReceivedRequest } from "../fakes/index.ts";
import { addModel, createChat } from "../support/chats.ts";
import { testRedisUrl } from "../support/env.ts";
import { body, deleteRedisKeys, startTestServer, type TestServer } from "../support/server.ts";
import { waitFor } from "../support/wait.ts";
import { describeModes, describeWith, scaledSkip, serviceModes } from "../support/modes.ts";

const modes = serviceModes();

/** No heartbeat (and so no lease check) within any test's lifetime. */
const quietLeases = { HEARTBEAT_INTERVAL_MS: "600000", STALE_AFTER_MS: "1800000" };
/** 300 words, 50 ms apart: a reply that would stream for 15 s. */
const longReply = { text: Array.from({ length: 300 }, (_, i) => `w${i}`).join(" "), tokenDelayMs: 50 };

/** Starts a long streamed turn and returns its chat and the provider request once tokens flow. */
async function streamingTurn(srv: TestServer, openai: OpenAiFake, modelId: string): Promise<{ chatId: string; request: ReceivedRequest }> {
  openai.enqueue(longReply);
  const before = openai.requests.length;
  const { chat } = await createChat(srv, { content: "talk for a long time", model_config_id: modelId });
  const request = await waitFor(() => (openai.requests[before]?.firstTokenAt ? openai.requests[before] : null), {
    timeoutMs: 15_000,
    message: "the turn never streamed",
  });
  return { chatId: chat.id, request };
}

/** The request ends; it must have been cut by the client (the worker's abort), not streamed to its end. */
async function expectCancelled(request: ReceivedRequest): Promise<void> {
  await waitFor(() => request.finishedAt !== null, { timeoutMs: 30_000, message: "the provider request never ended" });
  expect(request.outcome).toBe("client-closed");
}

describeModes(modes, "deleting a running chat on $db (redis: $redis)", (mode) => {
  let srv: TestServer;
  let openai: OpenAiFake;
  let modelId: string;
  beforeAll(async () => {
    [srv, openai] = await Promise.all([startTestServer({ ...mode, env: quietLeases }), startOpenAiFake()]);
    modelId = (await addModel(srv, { kind: "openai", base_url: openai.baseURL, api_key: "sk-test" })).modelId;
  });
  afterAll(async () => {
    await srv?.close();
    await openai?.close();
  });

  it("aborts the provider stream and discards the turn", async () => {
    const { chatId, request } = await streamingTurn(srv, openai, modelId);
    const res = await srv.api(`/api/v1/chats/${chatId}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect((await body(res)).deleted).toEqual([chatId]);
    await expectCancelled(request);
    await waitFor(() => srv.workers.runs.size === 0, { message: "the run did not end" });
    expect(await srv.db.prisma.chatMessage.count({ where: { chatId } })).toBe(0);
  });
});

describeWith(scaledSkip(), "deleting a chat that another process runs (Postgres + Redis)", () => {
  let a: TestServer;
  let b: TestServer;
  let openai: OpenAiFake;
  const prefix = `sbdel-${Date.now().toString(36)}`;
  beforeAll(async () => {
    openai = await startOpenAiFake();
    a = await startTestServer({ db: "postgres", redis: true, redisPrefix: prefix, env: quietLeases });
    b = await startTestServer({ db: "postgres", redis: true, redisPrefix: prefix, env: quietLeases, shareDatabaseWith: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await openai?.close();
    await deleteRedisKeys(testRedisUrl()!, `${prefix}:*`);
  });

  it("the delete reaches the running process's worker through Redis", async () => {
    const { modelId } = await addModel(a, { kind: "openai", base_url: openai.baseURL, api_key: "sk-test" });
    const { chatId, request } = await streamingTurn(a, openai, modelId);
    const { workerId } = await a.db.prisma.chat.findUniqueOrThrow({ where: { id: chatId } });
    const runner = workerId === a.workers.workerId ? a : b;
    const other = runner === a ? b : a;
    expect(runner.workers.runs.size).toBe(1);
    expect((await other.api(`/api/v1/chats/${chatId}`, { method: "DELETE" })).status).toBe(200);
    await expectCancelled(request);
    await waitFor(() => runner.workers.runs.size === 0, { message: "the run did not end" });
  });
});
