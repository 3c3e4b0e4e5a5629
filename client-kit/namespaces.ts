// The two Socket.IO namespaces.
export const namespaces = {
  /** The watch stream: events for all of the caller's chats. */
  chats: "/chats",
  /** One chat's live stream. */
  chat: "/chat",
} as const;
