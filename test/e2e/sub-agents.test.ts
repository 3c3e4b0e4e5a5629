// A sub-agent round trip on a fake provider: the parent's turn spawns a child, the
// child's own turn answers, the answer comes back to the parent's next step, and a
// dashboard sees the child's events under its parent.
import { afterAll, beforeAll, expect, it } from "vitest";
import { namespaces, type WatchEvent } from "../../client-kit/index.ts";
import { startOpenAiFake, type OpenAiFake, type ReceivedRequest, type ScriptedReply } from "../fakes/index.ts";
import { addModel, createChat, listMessages, waitForStatus } from "../support/chats.ts";
import { body, startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent } from "../support/socket.ts";
import { waitFor } from "../support/wait.ts";
import { describeModes, dbModes } from "../support/modes.ts";

type OpenAiMessage = { role: string; content?: string | null; tool_calls?: unknown[] };

/** The fake model: delegate, then wait for the child, then report what it said. */
function agentScript(req: ReceivedRequest): ScriptedReply {
  const messages = (req.body as { messages: OpenAiMessage[] }).messages;
  const last = messages.at(-1)!;
  const firstUser = messages.find((m) => m.role === "user")?.content ?? "";
  if (String(firstUser).includes("greet the parent")) return { text: "hello from the child" };
  if (last.role === "user") return { toolCalls: [{ id: "call_spawn", name: "spawn_agent", args: { prompt: "greet the parent" } }] };
  const result = JSON.parse(String(last.content)) as { chat_id?: string; answer?: string };
  if (result.answer === undefined) return { toolCalls: [{ id: "call_wait", name: "wait_agent", args: { chat_id: result.chat_id } }] };
  return { text: `the child said: ${result.answer}` };
}

describeModes(dbModes(), "sub-agents on $db", ({ db }) => {
  let srv: TestServer;
  let fake: OpenAiFake;
  beforeAll(async () => {
    fake = await startOpenAiFake({ defaultReply: agentScript });
    srv = await startTestServer({ db });
  });
  afterAll(async () => {
    await srv?.close();
    await fake?.close();
  });

  it("spawns a child, waits for its answer, and the dashboard sees the child under its parent", async () => {
    const { modelId } = await addModel(srv, { kind: "openai", base_url: fake.baseURL, api_key: "sk-test" });
    const dash = srv.socket(namespaces.chats);
    await nextEvent(dash, "connect");
    const events: WatchEvent[] = [];
    dash.on("chat:created", (e) => events.push(e));
    dash.on("chat:status", (e) => events.push(e));
    const { chat } = await createChat(srv, { content: "please delegate", model_config_id: modelId, client_type: "ui" });
    await waitForStatus(srv, chat.id, "waiting", 30_000);
    const msgs = await listMessages(srv, chat.id);
    expect(msgs.at(-1).content[0].text).toBe("the child said: hello from the child");

    const child = await srv.db.prisma.chat.findFirstOrThrow({ where: { parentChatId: chat.id } });
    expect(child).toMatchObject({
      rootChatId: chat.id,
      organizationId: (await srv.db.prisma.chat.findUniqueOrThrow({ where: { id: chat.id } })).organizationId,
      clientType: "ui",
      lastModelConfigId: modelId,
      status: "waiting",
    });
    await waitFor(() => events.some((e) => e.chat_id === child.id && e.parent_chat_id === chat.id && e.chat.status === "waiting"));
    expect(events.find((e) => e.chat_id === child.id)!.parent_chat_id).toBe(chat.id);

    // Lists show root chats only, with the child embedded; GET embeds it too.
    const list = await body(await srv.api("/api/v1/chats"));
    expect(list.chats.map((c: { id: string }) => c.id)).not.toContain(child.id);
    expect(list.chats.find((c: { id: string }) => c.id === chat.id).children.map((c: { id: string }) => c.id)).toEqual([child.id]);
    const got = await body(await srv.api(`/api/v1/chats/${chat.id}`));
    expect(got.children.map((c: { id: string }) => c.id)).toEqual([child.id]);
    // Children cannot spawn: the sub-agent tools are withheld from them.
    const childReq = fake.requests.find((r) => JSON.stringify(r.body).includes("greet the parent") && !JSON.stringify(r.body).includes("please delegate"))!;
    const toolNames = ((childReq.body as { tools?: { function: { name: string } }[] }).tools ?? []).map((t) => t.function.name);
    expect(toolNames).not.toContain("spawn_agent");
  });
});
