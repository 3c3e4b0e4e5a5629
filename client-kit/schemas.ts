// PLACEHOLDER until the wire-schema branch merges (helper-9 writes the real file).
import { z } from "zod";
const u = () => z.unknown();
export const chatSchema = u();
export const messageSchema = u();
export const queuedMessageSchema = u();
export const diffStatusViewSchema = u();
export const notificationViewSchema = u();
export const chatListSchema = u();
export const latestByLabelSchema = u();
export const messagePageSchema = u();
export const createChatResultSchema = u();
export const sendMessageResultSchema = u();
export const editMessageResultSchema = u();
export const archiveResultSchema = u();
export const promoteResultSchema = u();
export const deleteChatResultSchema = u();
export const queueListSchema = u();
export const diffStatusGetSchema = u();
export const promptsSchema = u();
export const notificationPageSchema = u();
export const readAllResultSchema = u();
export const webhookSettingsSchema = u();
export const webhookTestResultSchema = u();
export const organizationSchema = u();
export const meSchema = u();
export const apiKeyViewSchema = u();
export const apiKeyListSchema = u();
export const createdApiKeySchema = u();
export const providerViewSchema = u();
export const providerListSchema = u();
export const modelConfigViewSchema = u();
export const modelConfigListSchema = u();
export const userProviderKeyViewSchema = u();
export const userProviderKeyListSchema = u();
export const userViewSchema = u();
export const watchEventSchema = u();
export const unreadEventSchema = u();
export const statusEventSchema = u();
export const messagesDoneEventSchema = u();
export const queueUpdatedEventSchema = u();
export const retryEventSchema = u();
export const errorEventSchema = u();
export const requiresActionEventSchema = u();
export const sessionRevokedSchema = u();
export const streamEnvelopeSchema = u();
export const joinSnapshotSchema = u();
export const sessionInfoSchema = z.object({
  protocol_version: z.number().int(),
  user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
  organization_id: z.string(),
  role: z.string(),
});
export const healthSchema = u();
export const readinessSchema = u();
export const chatErrorInfoSchema = u();
export const pendingToolCallSchema = u();
export const streamSnapshotSchema = u();
