// classifyProviderError and LlmError on the error objects the SDKs really build
// (constructed through the SDKs' own factories), plus key scrubbing.
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it, vi } from "vitest";
import { classifyProviderError, LlmError, scrubSecrets } from "../../src/llm/index.ts";

const headers = (h: Record<string, string> = {}) => new Headers(h);
const openAiError = (status: number, error: Record<string, unknown>, h: Record<string, string> = {}) =>
  OpenAI.APIError.generate(status, { error }, undefined, headers(h));
const anthropicError = (status: number, type: string, message: string, h: Record<string, string> = {}) =>
  Anthropic.APIError.generate(status, { type: "error", error: { type, message } }, undefined, headers(h));

describe("classifyProviderError", () => {
  it.each([
    { label: "openai 401", err: openAiError(401, { message: "bad key", code: "invalid_api_key" }), kind: "auth", retryable: false },
    { label: "openai 403", err: openAiError(403, { message: "no access" }), kind: "auth", retryable: false },
    { label: "anthropic 401", err: anthropicError(401, "authentication_error", "invalid x-api-key"), kind: "auth", retryable: false },
    { label: "openai 429", err: openAiError(429, { message: "slow down", code: "rate_limit_exceeded" }), kind: "rate_limit", retryable: true },
    {
      label: "openai 429 quota",
      err: openAiError(429, { message: "You exceeded your current quota", code: "insufficient_quota" }),
      kind: "rate_limit",
      retryable: false,
    },
    { label: "anthropic 529", err: anthropicError(529, "overloaded_error", "Overloaded"), kind: "overloaded", retryable: true },
    { label: "anthropic 500 overloaded_error", err: anthropicError(500, "overloaded_error", "Overloaded"), kind: "overloaded", retryable: true },
    { label: "openai 500", err: openAiError(500, { message: "oops", type: "server_error" }), kind: "generic", retryable: true },
    { label: "openai 502", err: OpenAI.APIError.generate(502, undefined, "Bad gateway", headers()), kind: "generic", retryable: true },
    { label: "openai 408", err: OpenAI.APIError.generate(408, undefined, "timeout", headers()), kind: "timeout", retryable: true },
    {
      label: "openai 400 context",
      err: openAiError(400, { message: "maximum context length is 8192 tokens", code: "context_length_exceeded" }),
      kind: "context_length",
      retryable: false,
    },
    {
      label: "anthropic 400 too long",
      err: anthropicError(400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"),
      kind: "context_length",
      retryable: false,
    },
    {
      label: "anthropic 413",
      err: anthropicError(413, "request_too_large", "Request exceeds the maximum allowed number of bytes."),
      kind: "invalid_request",
      retryable: false,
    },
    {
      label: "openai 400 content policy",
      err: openAiError(400, { message: "flagged", code: "content_policy_violation" }),
      kind: "content_filter",
      retryable: false,
    },
    { label: "openai 404", err: openAiError(404, { message: "The model `x` does not exist" }), kind: "invalid_request", retryable: false },
    { label: "openai 422", err: OpenAI.APIError.generate(422, { error: { message: "bad" } }, undefined, headers()), kind: "invalid_request", retryable: false },
    { label: "openai abort", err: new OpenAI.APIUserAbortError(), kind: "aborted", retryable: false },
    { label: "anthropic abort", err: new Anthropic.APIUserAbortError(), kind: "aborted", retryable: false },
    { label: "DOM AbortError", err: Object.assign(new Error("This operation was aborted"), { name: "AbortError" }), kind: "aborted", retryable: false },
    { label: "connection timeout", err: new OpenAI.APIConnectionTimeoutError(), kind: "timeout", retryable: true },
    {
      label: "connection error",
      err: new Anthropic.APIConnectionError({ message: "Connection error.", cause: new Error("ECONNREFUSED") }),
      kind: "network",
      retryable: true,
    },
    { label: "ECONNRESET", err: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }), kind: "network", retryable: true },
    {
      label: "undici terminated",
      err: new TypeError("terminated", { cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }) }),
      kind: "network",
      retryable: true,
    },
    { label: "ETIMEDOUT", err: Object.assign(new Error("connect ETIMEDOUT"), { code: "ETIMEDOUT" }), kind: "timeout", retryable: true },
    {
      label: "in-stream api_error",
      err: new Anthropic.APIError(undefined, { type: "error", error: { type: "api_error", message: "boom" } }, undefined, undefined),
      kind: "generic",
      retryable: true,
    },
    // The Responses API reports an exhausted quota as an `error` event inside a 200 stream.
    {
      label: "in-stream insufficient_quota",
      err: new OpenAI.APIError(
        undefined,
        { type: "insufficient_quota", code: "insufficient_quota", message: "You exceeded your current quota" },
        undefined,
        undefined,
      ),
      kind: "rate_limit",
      retryable: false,
    },
    {
      label: "in-stream invalid_request",
      err: new OpenAI.APIError(undefined, { type: "invalid_request_error", message: "bad" }, undefined, undefined),
      kind: "invalid_request",
      retryable: false,
    },
    { label: "a programming error", err: new RangeError("index out of range"), kind: "generic", retryable: false },
  ] as const)("$label -> $kind (retryable: $retryable)", ({ err, kind, retryable }) => {
    const e = classifyProviderError(err, "prov");
    expect(e).toBeInstanceOf(LlmError);
    expect([e.kind, e.retryable, e.provider]).toEqual([kind, retryable, "prov"]);
  });

  it("keeps the status code and the provider's own words as detail", () => {
    const e = classifyProviderError(openAiError(404, { message: "The model `gpt-9` does not exist" }), "openai");
    expect(e.toInfo()).toEqual({
      message: "The provider rejected the request (HTTP 404)",
      kind: "invalid_request",
      provider: "openai",
      retryable: false,
      status_code: 404,
      detail: "The model `gpt-9` does not exist",
    });
  });

  it.each([
    [{ "retry-after": "12" }, 12_000],
    [{ "retry-after": "0.5" }, 500],
    [{ "retry-after-ms": "1500", "retry-after": "99" }, 1_500],
    [{ "retry-after": "soon" }, null],
    [{}, null],
  ])("429 with %o -> retryAfterMs %s", (h, expected) => {
    expect(classifyProviderError(openAiError(429, { message: "x" }, h), "p").retryAfterMs).toBe(expected);
  });

  it("reads an HTTP-date retry-after", () => {
    // The clock stands still, so the delay is exact whatever the machine's load.
    vi.useFakeTimers({ now: new Date("2026-12-02T06:00:00.000Z") });
    try {
      const at = new Date(Date.now() + 30_000).toUTCString();
      expect(classifyProviderError(anthropicError(429, "rate_limit_error", "x", { "retry-after": at }), "p").retryAfterMs).toBe(30_000);
    } finally {
      vi.useRealTimers();
    }
  });

  it("passes an LlmError through unchanged", () => {
    const original = new LlmError({ kind: "missing_key", provider: "x" });
    expect(classifyProviderError(original, "other")).toBe(original);
  });
});

describe("key scrubbing", () => {
  const key = "sk-proj-abcDEF123456ghiJKL";

  it("removes the configured key, sk- keys, bearer tokens and x-api-key values from messages and details", () => {
    const e = classifyProviderError(openAiError(401, { message: `Incorrect API key provided: ${key}. Header was Authorization: Bearer ${key}` }), "openai", [
      key,
    ]);
    const info = JSON.stringify(e.toInfo());
    expect(info).not.toContain(key);
    expect(info).not.toContain("abcDEF");
    expect(e.detail).toContain("[redacted]");
  });

  it("catches a key that does not look like one when it is the configured key", () => {
    const odd = "my-local-server-password";
    const e = classifyProviderError(new Error(`connect failed for token=${odd}: ECONNRESET`), "ollama", [odd]);
    expect(e.kind).toBe("network");
    expect(JSON.stringify(e.toInfo())).not.toContain(odd);
  });

  it("scrubs generic token shapes even without the configured key", () => {
    const text = scrubSecrets("key sk-ant-api03-XYZxyz_123-456 and Bearer eyJhbGciOi.payload.sig and x-api-key: raw-key-value");
    expect(text).toBe("key sk-[redacted] and Bearer [redacted] and x-api-key: [redacted]");
  });

  it("LlmError scrubs whatever message it is built with", () => {
    const e = new LlmError({ kind: "generic", provider: "p", message: `failed with ${key}`, detail: `Bearer ${key}` });
    expect(e.message).toBe("failed with sk-[redacted]");
    expect(e.detail).toBe("Bearer [redacted]");
  });

  it("truncates huge details", () => {
    const e = new LlmError({ kind: "generic", provider: "p", detail: "x".repeat(10_000) });
    expect(e.detail!.length).toBeLessThanOrEqual(2_001);
  });
});
