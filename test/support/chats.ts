// Helpers for chat tests: register a provider + model through the REST API, and
// wait for a chat to reach a status.
import { body, type Json, type TestServer } from "./server.ts";
import { waitFor } from "./wait.ts";

export interface ModelSetup {
  kind: "openai" | "anthropic" | "openai_compatible" | "echo";
  base_url?: string;
  api_key?: string;
  use_responses_api?: boolean;
  store_responses?: boolean;
  require_user_key?: boolean;
  model?: string;
  input_price_micros_per_mtok?: number;
  output_price_micros_per_mtok?: number;
  cache_read_price_micros_per_mtok?: number;
  cache_creation_price_micros_per_mtok?: number;
  options?: Record<string, unknown>;
  is_default?: boolean;
  /** The organization's model for titles and summaries. */
  quick_generation?: boolean;
}

let seq = 0;
export async function addModel(srv: TestServer, m: ModelSetup): Promise<{ providerId: string; modelId: string }> {
  const {
    model,
    input_price_micros_per_mtok,
    output_price_micros_per_mtok,
    cache_read_price_micros_per_mtok,
    cache_creation_price_micros_per_mtok,
    options,
    is_default,
    quick_generation,
    ...provider
  } = m;
  const pr = await srv.api("/api/v1/providers", { method: "POST", json: { name: `${m.kind}-${++seq}`, ...provider } });
  if (pr.status !== 201) throw new Error(`provider: ${pr.status} ${JSON.stringify(await body(pr))}`);
  const p = await body(pr);
  const mr = await srv.api("/api/v1/model-configs", {
    method: "POST",
    json: {
      provider_id: p.id,
      model: model ?? `${m.kind}-model`,
      context_limit: 100_000,
      ...(input_price_micros_per_mtok !== undefined && { input_price_micros_per_mtok }),
      ...(output_price_micros_per_mtok !== undefined && { output_price_micros_per_mtok }),
      ...(cache_read_price_micros_per_mtok !== undefined && { cache_read_price_micros_per_mtok }),
      ...(cache_creation_price_micros_per_mtok !== undefined && { cache_creation_price_micros_per_mtok }),
      ...(options && { options }),
      ...(is_default !== undefined && { is_default }),
      ...(quick_generation !== undefined && { quick_generation }),
    },
  });
  if (mr.status !== 201) throw new Error(`model: ${mr.status} ${JSON.stringify(await body(mr))}`);
  return { providerId: p.id, modelId: (await body(mr)).id };
}

export async function createChat(srv: TestServer, json: Record<string, unknown>, key?: string) {
  const res = await srv.api("/api/v1/chats", { method: "POST", json, ...(key ? { key } : {}) });
  const b = await body(res);
  if (res.status !== 201) throw new Error(`create chat: ${res.status} ${JSON.stringify(b)}`);
  return b as { chat: { id: string; status: string; version: number }; message: { id: number } };
}

export async function getChat(srv: TestServer, id: string, key?: string): Promise<Json> {
  return body(await srv.api(`/api/v1/chats/${id}`, key ? { key } : {}));
}

export async function listMessages(srv: TestServer, id: string): Promise<Json[]> {
  return (await body(await srv.api(`/api/v1/chats/${id}/messages?limit=200`))).messages;
}

export async function waitForStatus(srv: TestServer, id: string, status: string | string[], timeoutMs = 20_000) {
  const want = Array.isArray(status) ? status : [status];
  let last: { status?: string; worker_id?: string | null; version?: number } = {};
  return waitFor(
    async () => {
      const c = await getChat(srv, id);
      last = c;
      return want.includes(c.status) ? c : null;
    },
    { timeoutMs, intervalMs: 25, message: `chat ${id} never reached ${want.join("|")}` },
  ).catch((e: Error) => {
    throw new Error(`${e.message} (last: status ${last.status}, worker ${last.worker_id}, version ${last.version})`, { cause: e });
  });
}
