-- A queued message to promote as soon as the running turn has stopped: set by a
-- manual promotion of a running chat, consumed by the worker in the same
-- transaction that persists the interrupted turn's partial output.
ALTER TABLE "chats" ADD COLUMN "promote_queued_message_id" BIGINT;
