-- How each model step ended, on its assistant message, so a reply cut at the token
-- limit (`length`) or refused (`refusal`) is told apart from a complete one. Older rows
-- stay null (unknown).
ALTER TABLE "chat_messages" ADD COLUMN "finish_reason" TEXT;

-- Prompt-cache prices per model (USD micro-dollars per million tokens). Null prices the
-- cached tokens like ordinary input tokens.
ALTER TABLE "model_configs" ADD COLUMN "cache_read_price_micros_per_mtok" INTEGER;
ALTER TABLE "model_configs" ADD COLUMN "cache_creation_price_micros_per_mtok" INTEGER;
