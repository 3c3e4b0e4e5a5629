// Each command of the table bound to the one service call that does it. The type
// holds every binding to its entry: a result that does not match the command's
// output schema, or a missing or unknown command, fails `tsc`.
import type { CommandName, CommandResult, ParsedCommandInput } from "../../client-kit/command-table.ts";
import type { Principal } from "../auth/authenticate.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { ChatServices } from "../chats/services.ts";
import type { ProviderService } from "../admin/provider-service.ts";
import type { OrganizationService } from "../admin/organization-service.ts";
import type { WebhookSettings } from "../notifications/webhook-settings.ts";
import type { WebhookDelivery } from "../notifications/webhook-delivery.ts";
import { addUser } from "../admin/user-service.ts";
import { createApiKey, listApiKeys, revokeApiKey } from "../auth/api-key-service.ts";
import { latestByLabel, listChats } from "../chats/chat-list.ts";
import { parseChatSearch } from "../domain/search-query.ts";
import { notFound } from "../domain/errors.ts";

export type Binding<C extends CommandName> = (p: Principal, input: ParsedCommandInput<C>) => Promise<CommandResult<C>>;
export type Bindings = { [C in CommandName]: Binding<C> };

export interface CommandServices extends ChatServices {
  prisma: PrismaClient;
  providers: ProviderService;
  organization: OrganizationService;
  webhookSettings: WebhookSettings;
  webhookDelivery: WebhookDelivery;
  /** Sockets authenticated with a revoked key are disconnected (any node). */
  onApiKeyRevoked?: ((apiKeyId: string) => void) | undefined;
}

export function bindCommands(s: CommandServices): Bindings {
  return {
    "chat:create": (p, i) => s.chats.create(p, i),
    "chat:list": (p, i) => listChats(s.prisma, p, { search: parseChatSearch(i.q), labels: i.label, limit: i.limit, after: i.after }),
    "chat:latest": async (p, i) => ({ latest: await latestByLabel(s.prisma, p, i.key, i.values) }),
    "chat:get": (p, i) => s.chats.get(p, i.chat_id),
    "chat:update": (p, i) => s.organizer.update(p, i.chat_id, i),
    "chat:delete": (p, i) => s.organizer.delete(p, i.chat_id),
    "chat:archive": async (p, i) => (await s.organizer.archive(p, i.chat_id)) ?? Promise.reject(notFound("chat")),
    "chat:unarchive": (p, i) => s.organizer.unarchive(p, i.chat_id),
    "chat:interrupt": (p, i) => s.chats.interrupt(p, i.chat_id, { clearQueue: i.clear_queue }),
    "title:regenerate": (p, i) => s.texts.regenerateTitle(p, i.chat_id),
    "diff_status:report": (p, i) => s.extras.reportDiffStatus(p, i.chat_id, i),
    "diff_status:get": async (p, i) => ({ diff_status: await s.extras.diffStatus(p, i.chat_id) }),
    "prompt:list": async (p, i) => ({ prompts: await s.extras.prompts(p, i.chat_id, i.limit) }),

    "message:list": (p, i) => s.chats.listMessages(p, i.chat_id, i),
    "message:send": (p, i) => s.chats.send(p, i.chat_id, i),
    "message:edit": (p, i) => s.chats.edit(p, i.chat_id, i.message_id, i),
    "queue:list": async (p, i) => ({ queued_messages: await s.chats.listQueue(p, i.chat_id) }),
    "queue:delete": async (p, i) => {
      await s.organizer.deleteQueued(p, i.chat_id, i.queued_id);
      return null;
    },
    "queue:promote": (p, i) => s.queue.promote(p, i.chat_id, i.queued_id),
    "tool_results:submit": (p, i) => s.toolResults.submit(p, i.chat_id, i.results),

    "notification:list": (p, i) => s.notifications.list(p, { limit: i.limit, unreadOnly: i.unread === true, before: i.before }),
    "notification:read_all": (p) => s.notifications.markAllRead(p),
    "notification:read": (p, i) => s.notifications.markRead(p, i.notification_id),
    "webhook:get": (p) => s.webhookSettings.get(p),
    "webhook:set": (p, i) => s.webhookSettings.set(p, i),
    "webhook:delete": (p) => s.webhookSettings.remove(p),
    "webhook:test": (p) => s.webhookDelivery.test(p),

    "me:get": (p) => s.organization.me(p),
    "api_key:list": async (p) => ({ api_keys: await listApiKeys(s.prisma, p) }),
    "api_key:create": (p, i) => createApiKey(s.prisma, p, i),
    "api_key:revoke": async (p, i) => {
      const key = await revokeApiKey(s.prisma, p, i.api_key_id);
      s.onApiKeyRevoked?.(key.id);
      return key;
    },
    "organization:get": (p) => s.organization.get(p),
    "organization:update": (p, i) => s.organization.update(p, i),
    "user:create": (p, i) => addUser(s.prisma, p, i),

    "provider:list": async (p) => ({ providers: await s.providers.listProviders(p) }),
    "provider:create": (p, i) => s.providers.createProvider(p, i),
    "provider:update": (p, { provider_id, ...i }) => s.providers.updateProvider(p, provider_id, i),
    "model_config:list": async (p) => ({ model_configs: await s.providers.listModels(p) }),
    "model_config:create": (p, i) => s.providers.createModel(p, i),
    "model_config:update": (p, { model_config_id, ...i }) => s.providers.updateModel(p, model_config_id, i),
    "provider_key:list": async (p) => ({ provider_keys: await s.providers.listUserKeys(p) }),
    "provider_key:set": (p, i) => s.providers.setUserKey(p, i.provider_id, i.api_key),
    "provider_key:delete": async (p, i) => {
      await s.providers.deleteUserKey(p, i.provider_id);
      return null;
    },
  };
}
