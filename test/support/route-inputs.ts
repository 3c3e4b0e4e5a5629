// Every HTTP route of the app with the schemas of its inputs: the single list the
// fuzzer and the schema checks walk. test/e2e/fuzz.test.ts compares it with the
// routes Express actually registered, so a new route cannot be left out.
import type { Express } from "express";
import { z } from "zod";
import {
  createChatSchema,
  diffStatusSchema,
  interruptSchema,
  listMessagesQuerySchema,
  promptsQuerySchema,
  sendMessageSchema,
  submitToolResultsSchema,
  updateChatSchema,
} from "../../client-kit/commands.ts";
import { createModelConfigSchema, createProviderSchema, updateModelConfigSchema, updateProviderSchema, userKeySchema } from "../../src/admin/provider-schemas.ts";
import { idParams, newUserSchema } from "../../src/http/routes/admin.ts";
import { apiKeyParams, createApiKeySchema } from "../../src/http/routes/api-keys.ts";
import { chatParams, latestQuery, listChatsQuery, messageParams, queuedParams } from "../../src/http/routes/chats.ts";
import { listNotificationsQuery, notificationParams, orgSettingsSchema, webhookBody } from "../../src/http/routes/notifications.ts";

export interface RouteInputs {
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
}

/** What the fixture ids in a path stand for (the fuzzer fills them in). */
export type PathParamKind = "chat" | "message" | "queued" | "notification" | "provider" | "model" | "api-key";

const noInput: RouteInputs = {};
// The route checks URLs against the network policy too; for the input's shape any URL check will do.
const webhookSchema = webhookBody(() => true);

export const routeInputs = {
  "GET /healthz": noInput,
  "GET /readyz": noInput,
  "GET /metrics": noInput,
  "GET /api/v1/me": noInput,
  "GET /api/v1/api-keys": noInput,
  "POST /api/v1/api-keys": { body: createApiKeySchema },
  "DELETE /api/v1/api-keys/:id": { params: apiKeyParams },
  "GET /api/v1/chats": { query: listChatsQuery },
  "POST /api/v1/chats": { body: createChatSchema },
  "GET /api/v1/chats/latest": { query: latestQuery },
  "GET /api/v1/chats/:id": { params: chatParams },
  "PATCH /api/v1/chats/:id": { params: chatParams, body: updateChatSchema },
  "DELETE /api/v1/chats/:id": { params: chatParams },
  "GET /api/v1/chats/:id/messages": { params: chatParams, query: listMessagesQuerySchema },
  "POST /api/v1/chats/:id/messages": { params: chatParams, body: sendMessageSchema },
  "PATCH /api/v1/chats/:id/messages/:messageId": { params: messageParams, body: sendMessageSchema },
  "GET /api/v1/chats/:id/queue": { params: chatParams },
  "POST /api/v1/chats/:id/interrupt": { params: chatParams, body: interruptSchema },
  "POST /api/v1/chats/:id/archive": { params: chatParams },
  "POST /api/v1/chats/:id/unarchive": { params: chatParams },
  "DELETE /api/v1/chats/:id/queue/:queuedId": { params: queuedParams },
  "POST /api/v1/chats/:id/queue/:queuedId/promote": { params: queuedParams },
  "POST /api/v1/chats/:id/tool-results": { params: chatParams, body: submitToolResultsSchema },
  "PUT /api/v1/chats/:id/diff-status": { params: chatParams, body: diffStatusSchema },
  "GET /api/v1/chats/:id/diff-status": { params: chatParams },
  "POST /api/v1/chats/:id/title/regenerate": { params: chatParams },
  "GET /api/v1/chats/:id/prompts": { params: chatParams, query: promptsQuerySchema },
  "GET /api/v1/providers": noInput,
  "POST /api/v1/providers": { body: createProviderSchema },
  "PATCH /api/v1/providers/:id": { params: idParams, body: updateProviderSchema },
  "GET /api/v1/model-configs": noInput,
  "POST /api/v1/model-configs": { body: createModelConfigSchema },
  "PATCH /api/v1/model-configs/:id": { params: idParams, body: updateModelConfigSchema },
  "GET /api/v1/me/provider-keys": noInput,
  "PUT /api/v1/me/provider-keys/:id": { params: idParams, body: userKeySchema },
  "DELETE /api/v1/me/provider-keys/:id": { params: idParams },
  "POST /api/v1/users": { body: newUserSchema },
  "GET /api/v1/notifications": { query: listNotificationsQuery },
  "POST /api/v1/notifications/read-all": noInput,
  "POST /api/v1/notifications/:id/read": { params: notificationParams },
  "GET /api/v1/me/webhook": noInput,
  "PUT /api/v1/me/webhook": { body: webhookSchema },
  "POST /api/v1/me/webhook/test": noInput,
  "DELETE /api/v1/me/webhook": noInput,
  "GET /api/v1/organization": noInput,
  "PATCH /api/v1/organization": { body: orgSettingsSchema },
} satisfies Record<string, RouteInputs>;

export type RouteKey = keyof typeof routeInputs;

/** Which fixture a path parameter of a route names. */
export function pathParamKind(route: string, param: string): PathParamKind {
  if (param === "messageId") return "message";
  if (param === "queuedId") return "queued";
  if (route.includes("/chats/")) return "chat";
  if (route.includes("/notifications/")) return "notification";
  if (route.includes("/api-keys/")) return "api-key";
  if (route.includes("/model-configs/")) return "model";
  return "provider";
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

/** "METHOD /path" for every route Express registered, nested routers included (router 2.x layers). */
export function registeredRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== "_all") out.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === "string" && layer.rawPath !== "/" ? layer.rawPath : "";
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, "");
  return out;
}
