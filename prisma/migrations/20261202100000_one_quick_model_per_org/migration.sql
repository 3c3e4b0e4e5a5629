-- At most one quick-generation model (titles, summaries) per organization, like the
-- one default. Where several are marked, the one that was being used keeps the flag:
-- a real model before the built-in echo model, then the most recently updated.
UPDATE "model_configs" m SET "quick_generation" = false
WHERE m."quick_generation" AND m."id" <> (
  SELECT k."id" FROM "model_configs" k JOIN "ai_providers" p ON p."id" = k."provider_id"
  WHERE k."organization_id" = m."organization_id" AND k."quick_generation"
  ORDER BY (p."kind" = 'echo'), k."updated_at" DESC, k."id" DESC
  LIMIT 1
);

CREATE UNIQUE INDEX "model_configs_one_quick_per_org" ON "model_configs"("organization_id") WHERE quick_generation;
