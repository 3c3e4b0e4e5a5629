// Room names. A socket joins its user's watch room on /chats, one room per chat it
// joined on /chat, and its API key's room (so a revoked key can be cut off).
export const rooms = {
  user: (userId: string) => `user:${userId}`,
  chat: (chatId: string) => `chat:${chatId}`,
  apiKey: (apiKeyId: string) => `key:${apiKeyId}`,
};
