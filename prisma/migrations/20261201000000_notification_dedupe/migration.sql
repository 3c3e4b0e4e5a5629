-- Turn notifications are created by jobs that may run twice (retries, two workers):
-- a per-user dedupe key ("turn_finished-<chat>-<history_version>") makes the
-- second insert a no-op. Digests and other one-off notifications leave it null.
ALTER TABLE "notifications" ADD COLUMN "dedupe_key" TEXT;

CREATE UNIQUE INDEX "notifications_user_id_dedupe_key_key" ON "notifications"("user_id", "dedupe_key");
