// Room names. A socket joins its user's watch room on /chats and one room per chat
// it joined on /chat. (Sockets of a revoked key are found by socket.data: sessions.ts.)
export const rooms = {
  user: (userId: string) => `user:${userId}`,
  chat: (chatId: string) => `chat:${chatId}`,
};
