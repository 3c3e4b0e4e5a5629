// The AsyncAPI 3.0 document of the Socket.IO protocol, generated from the command
// table and the event table: both namespaces as channels, every server-to-client
// event with its payload, every command and socket request with its payload and its
// ack (the reply). Served at GET /api/v1/asyncapi.json.
import { z } from "zod";
import { commandNames, commands } from "./command-table.ts";
import { wireErrorSchema } from "./errors.ts";
import { serverEvents, socketRequests } from "./event-table.ts";
import { toJsonSchemas } from "./json-schema.ts";
import { namespaces } from "./namespaces.ts";
import { PROTOCOL_VERSION } from "./protocol.ts";

const key = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_");
const channelOf = { [namespaces.chats]: "chats", [namespaces.chat]: "chat" } as const;

/** Every ack: `{ ok: true, data }` or `{ ok: false, error }`. */
const ackOf = (data: z.ZodType) => z.union([z.strictObject({ ok: z.literal(true), data }), z.strictObject({ ok: z.literal(false), error: wireErrorSchema })]);

interface Request {
  name: string;
  summary: string;
  namespaces: readonly string[];
  payload: z.ZodType;
  result: z.ZodType;
}

export function asyncApiDocument(): Record<string, unknown> {
  const requests: Request[] = [
    ...commandNames.map((name) => ({
      name,
      summary: commands[name].summary,
      namespaces: [namespaces.chats, namespaces.chat],
      payload: commands[name].input,
      result: commands[name].output,
    })),
    ...Object.entries(socketRequests).map(([name, r]) => ({ name, summary: r.summary, namespaces: r.namespaces, payload: r.payload, result: r.result })),
  ];
  const inputs = toJsonSchemas<string>(Object.fromEntries(requests.map((r) => [`${key(r.name)}.payload`, r.payload])), { io: "input", target: "draft-7" });
  const outputs = toJsonSchemas<string>(
    {
      ...Object.fromEntries(requests.map((r) => [`${key(r.name)}.ack`, ackOf(r.result)])),
      ...Object.fromEntries(Object.entries(serverEvents).map(([name, e]) => [`${key(name)}.event`, e.payload])),
    },
    { io: "output", target: "draft-7" },
  );

  const messages: Record<string, unknown> = {};
  const channels: Record<string, { address: string; title: string; description: string; messages: Record<string, unknown> }> = {
    chats: { address: namespaces.chats, title: "Watch stream", description: "Events for all of the caller's chats; commands.", messages: {} },
    chat: { address: namespaces.chat, title: "Chat stream", description: "One joined chat's live turn; commands.", messages: {} },
  };
  const operations: Record<string, unknown> = {};
  const inChannel = (channel: string, message: string) => {
    channels[channel]!.messages[message] = { $ref: `#/components/messages/${message}` };
    return { $ref: `#/channels/${channel}/messages/${message}` };
  };

  for (const [name, e] of Object.entries(serverEvents)) {
    const m = `${key(name)}_event`;
    messages[m] = { name, title: name, summary: e.summary, payload: outputs.schemas[`${key(name)}.event`] };
    for (const ns of e.namespaces) {
      const channel = channelOf[ns];
      operations[`${channel}.${key(name)}`] = {
        action: "send",
        channel: { $ref: `#/channels/${channel}` },
        summary: e.summary,
        messages: [inChannel(channel, m)],
      };
    }
  }
  for (const r of requests) {
    const m = key(r.name);
    messages[m] = { name: r.name, title: r.name, summary: r.summary, payload: inputs.schemas[`${m}.payload`] };
    messages[`${m}_ack`] = {
      name: `${r.name} ack`,
      title: `${r.name} ack`,
      summary: `The acknowledgement of ${r.name}.`,
      payload: outputs.schemas[`${m}.ack`],
    };
    for (const ns of r.namespaces) {
      const channel = channelOf[ns as keyof typeof channelOf];
      operations[`${channel}.${m}`] = {
        action: "receive",
        channel: { $ref: `#/channels/${channel}` },
        summary: r.summary,
        messages: [inChannel(channel, m)],
        reply: { channel: { $ref: `#/channels/${channel}` }, messages: [inChannel(channel, `${m}_ack`)] },
      };
    }
  }

  return {
    asyncapi: "3.0.0",
    info: {
      title: "Switchboard realtime",
      version: `${PROTOCOL_VERSION}.0.0`,
      description:
        "Socket.IO namespaces /chats and /chat (authenticate with `auth.token` = an API key in the handshake). Commands are emitted with an ack callback; every chat event carries chat_id, updated_at and version: apply it only when updated_at is newer than the state you hold.",
    },
    defaultContentType: "application/json",
    channels,
    operations,
    components: { schemas: { ...inputs.components, ...outputs.components }, messages },
  };
}
