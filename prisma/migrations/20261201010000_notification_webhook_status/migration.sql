-- Where a notification's webhook delivery stands, so a user can see it in the inbox:
-- null when the user had no webhook when it was created.
CREATE TYPE "webhook_delivery_status" AS ENUM ('pending', 'delivered', 'failed', 'skipped');

ALTER TABLE "notifications"
  ADD COLUMN "webhook_status" "webhook_delivery_status",
  ADD COLUMN "webhook_attempts" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "webhook_last_error" TEXT;
