-- The outbox: work that must happen after a commit (a turn's summary and title, a
-- notification's webhook delivery) is written as a row in the same transaction. Queues
-- only wake the rows up; the recovery sweep re-enqueues rows whose job was lost (a
-- restart, an emptied Redis). A row is deleted when its work is done or given up.
CREATE TABLE "outbox_jobs" (
  "id" BIGSERIAL NOT NULL,
  "queue" TEXT NOT NULL,
  "job_key" TEXT NOT NULL,
  "data" JSONB NOT NULL DEFAULT '{}',
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "max_attempts" INTEGER NOT NULL DEFAULT 1,
  "run_after" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "last_error" TEXT,
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  CONSTRAINT "outbox_jobs_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "outbox_jobs_job_key_key" ON "outbox_jobs"("job_key");
CREATE INDEX "outbox_jobs_run_after_idx" ON "outbox_jobs"("run_after");
