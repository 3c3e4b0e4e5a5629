// Replays recorded provider streams through our adapters. The recordings (Vercel AI
// SDK fixtures and pydantic-ai VCR cassettes, recorded from the live APIs; see
// SOURCES.md next to them) live outside the project, in
// `../shared/provider-replay/recordings` from the repository root, and are read in
// place, never copied. Each recording is cut into the HTTP responses it came from and
// served by the fake provider servers, one SSE event per write or re-cut into small
// byte slices, to the real SDK client inside our adapter; what the adapter emits is
// collapsed into message parts the way the turn loop stores them.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProvider, type FinishReason, type LlmErrorKind, type LlmEvent, type ProviderSettings, type Usage } from "../../src/llm/index.ts";
import { collectStream, sse, type AnthropicFake, type OpenAiFake } from "../fakes/index.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// PROVIDER_REPLAY_DIR points elsewhere (a clone that does not sit beside the shared folder).
export const RECORDINGS_DIR = process.env.PROVIDER_REPLAY_DIR
  ? path.resolve(process.env.PROVIDER_REPLAY_DIR)
  : path.resolve(repoRoot, "../shared/provider-replay/recordings");
export const recordingsPresent = existsSync(RECORDINGS_DIR);
export const SKIP_REASON = `recordings folder ${RECORDINGS_DIR} is absent (shared data outside the repository; set PROVIDER_REPLAY_DIR to where it is)`;

/** Which adapter a recording speaks to. */
export type Wire = "anthropic" | "chat" | "responses";

/** One HTTP response: SSE frames (one event each), or an error status with its JSON body. */
export type RecordedResponse = { frames: string[] } | { status: number; body: unknown };

type Json = Record<string, unknown>;

/** Every recording file, relative to RECORDINGS_DIR, sorted. */
export function allRecordings(): string[] {
  return readdirSync(RECORDINGS_DIR, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(RECORDINGS_DIR, path.join(d.parentPath, d.name)))
    .sort();
}

/** The recordings of one wire format (by their first event; error bodies by folder). */
export function recordingsOf(wire: Wire): string[] {
  return allRecordings().filter((file) => wireOf(file) === wire);
}

export function wireOf(file: string): Wire {
  if (file.endsWith(".json")) return file.startsWith("openai-responses/") ? "responses" : "chat";
  const type = String(events(file)[0]?.["type"] ?? "");
  if (type.startsWith("message_") || type === "content_block_start" || type === "ping") return "anthropic";
  if (type.startsWith("response.") || type === "error") return "responses";
  return "chat";
}

/** The recording as the HTTP responses it was recorded from. */
export function recordedResponses(file: string): RecordedResponse[] {
  const raw = readFileSync(path.join(RECORDINGS_DIR, file), "utf8");
  if (file.endsWith(".json")) return [{ status: 400, body: JSON.parse(raw) as unknown }];
  const wire = wireOf(file);
  if (file.endsWith(".sse")) {
    // A cassette body is the raw SSE of one response: served byte for byte, a frame per write.
    return [{ frames: raw.split(/(?<=\r?\n\r?\n)/).filter((f) => f.trim() !== "") }];
  }
  // Vercel fixtures: one event's JSON per line. The live APIs name each event (`event:`
  // lines, which the Anthropic SDK requires); Chat Completions sends data only and ends
  // with [DONE], as the Vercel tests replay them.
  const lines = raw.split("\n").filter((l) => l.trim() !== "");
  const responses: string[][] = [];
  let current: string[] = [];
  let ended = false;
  for (const line of lines) {
    const type = String((JSON.parse(line) as Json)["type"] ?? "");
    // Multi-step recordings hold one response per step: a new message (response) after
    // the previous one ended starts the next HTTP response.
    const starts = (wire === "anthropic" && type === "message_start") || (wire === "responses" && type === "response.created");
    if (starts && ended) {
      responses.push(current);
      current = [];
      ended = false;
    }
    current.push(wire === "chat" ? `data: ${line}\n\n` : `event: ${type}\ndata: ${line}\n\n`);
    if (type === "message_stop" || type === "response.completed" || type === "response.incomplete" || type === "response.failed") ended = true;
  }
  if (wire === "chat") current.push(sse("[DONE]"));
  responses.push(current);
  return responses.map((frames) => ({ frames }));
}

function events(file: string): Json[] {
  const raw = readFileSync(path.join(RECORDINGS_DIR, file), "utf8");
  if (file.endsWith(".sse")) {
    return raw
      .split(/\r?\n\r?\n/)
      .map((frame) =>
        frame
          .split(/\r?\n/)
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart())
          .join("\n"),
      )
      .filter((d) => d !== "" && d !== "[DONE]")
      .map((d) => JSON.parse(d) as Json);
  }
  return raw
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Json);
}

// ---- Running a response through an adapter

export type ReplayedPart = { text: string } | { reasoning: string } | { call: [id: string, name: string, args: unknown] };

export interface Replayed {
  parts: ReplayedPart[];
  usage: Usage | null;
  finish: FinishReason | null;
  detail: string | null;
  error: { kind: string; retryable: boolean } | null;
}

/** How the bytes reach the client: one SSE event per write, or re-cut into 7-byte writes. */
export type ReplayMode = "events" | "slices";
/** Small enough to split every frame, JSON token and multi-byte character somewhere. */
const SLICE_BYTES = 7;

export interface ReplayTarget {
  fake: Pick<AnthropicFake | OpenAiFake, "enqueue">;
  settings: ProviderSettings;
}

/** Serves one recorded response through the fake and drains the adapter's stream. */
export async function replay(target: ReplayTarget, response: RecordedResponse, mode: ReplayMode): Promise<Replayed> {
  if ("frames" in response) target.fake.enqueue({ sse: response.frames, ...(mode === "slices" ? { sliceBytes: SLICE_BYTES } : {}) });
  else target.fake.enqueue({ fail: { status: response.status, body: response.body } });
  const r = await collectStream(
    createProvider(target.settings).stream({
      model: "replay-model",
      messages: [{ role: "user", content: [{ type: "text", text: "replay" }] }],
      tools: [],
      signal: new AbortController().signal,
    }),
  );
  const err = r.error as { kind?: unknown; retryable?: unknown } | null;
  return {
    parts: partsOf(r.events),
    usage: r.usage,
    finish: r.finishReason,
    detail: r.finish?.detail ?? null,
    error: err ? { kind: String(err.kind), retryable: err.retryable === true } : null,
  };
}

/** The events as the turn loop stores them: consecutive text (reasoning) deltas merged, calls in order. */
function partsOf(events: LlmEvent[]): ReplayedPart[] {
  const parts: ReplayedPart[] = [];
  for (const ev of events) {
    const last = parts[parts.length - 1];
    if (ev.type === "text-delta") {
      if (last && "text" in last) last.text += ev.text;
      else parts.push({ text: ev.text });
    } else if (ev.type === "reasoning-delta") {
      if (last && "reasoning" in last) last.reasoning += ev.text;
      else parts.push({ reasoning: ev.text });
    } else if (ev.type === "tool-call") {
      parts.push({ call: [ev.tool_call_id, ev.tool_name, ev.args] });
    }
  }
  return parts;
}

// ---- Expectations

/**
 * Exact text, or (long texts) how it starts and ends, its exact length (a JS string's
 * length: UTF-16 code units) and passages it must contain.
 */
export type TextExpect = string | { starts: string; ends: string; length: number; has?: string[] };

export type PartExpect = { text: TextExpect } | { reasoning: TextExpect } | { call: [id: string, name: string, args: unknown] };

export interface ResponseExpect {
  parts: PartExpect[];
  /** Normalized usage (src/llm/types.ts); omitted when the response fails. */
  usage?: Usage | null;
  finish?: FinishReason;
  detail?: string;
  /** The classified LlmError the response must end with. */
  error?: { kind: LlmErrorKind; retryable: boolean };
  /** Why the result looks the way it does (ignored events, quirks): documentation only. */
  note?: string;
}

export function expectReplayed(actual: Replayed, expected: ResponseExpect): void {
  expect(actual.parts.map(kindOf), "part kinds").toEqual(expected.parts.map(kindOf));
  expected.parts.forEach((want, i) => {
    const got = actual.parts[i]!;
    if ("call" in want) expect(got, `part ${i}`).toEqual(want);
    else if ("text" in want) expectText((got as { text: string }).text, want.text, `text part ${i}`);
    else expectText((got as { reasoning: string }).reasoning, want.reasoning, `reasoning part ${i}`);
  });
  if (expected.error) {
    expect(actual.error, "error").toEqual(expected.error);
    return;
  }
  expect(actual.error, "error").toBeNull();
  expect(actual.usage, "usage").toEqual(expected.usage ?? null);
  expect(actual.finish, "finish reason").toBe(expected.finish);
  expect(actual.detail, "finish detail").toBe(expected.detail ?? null);
}

function kindOf(p: PartExpect | ReplayedPart): string {
  return "call" in p ? "call" : "text" in p ? "text" : "reasoning";
}

function expectText(actual: string, want: TextExpect, label: string): void {
  if (typeof want === "string") {
    expect(actual, label).toBe(want);
    return;
  }
  expect(actual.startsWith(want.starts), `${label} starts with ${JSON.stringify(want.starts)}: ${JSON.stringify(actual.slice(0, 60))}`).toBe(true);
  expect(actual.endsWith(want.ends), `${label} ends with ${JSON.stringify(want.ends)}: ${JSON.stringify(actual.slice(-60))}`).toBe(true);
  expect(actual.length, `${label} length`).toBe(want.length);
  for (const passage of want.has ?? []) expect(actual, `${label} passage`).toContain(passage);
}

/**
 * Replays every response of a recording in both modes and checks each against its
 * expectation; the two modes must also agree exactly.
 */
export async function checkRecording(target: ReplayTarget, file: string, expected: ResponseExpect[]): Promise<void> {
  const responses = recordedResponses(file);
  expect(responses.length, "responses in the recording").toBe(expected.length);
  for (const [i, response] of responses.entries()) {
    const byEvent = await replay(target, response, "events");
    expectReplayed(byEvent, expected[i]!);
    const sliced = await replay(target, response, "slices");
    expect(sliced, `response ${i + 1} in ${SLICE_BYTES}-byte slices`).toEqual(byEvent);
  }
}

/**
 * The suite for one wire format: the table must cover every recording of that format,
 * and each recording replays as its table entry says. Skipped, saying why, when the
 * recordings folder is absent.
 */
export function describeReplay<F extends { close(): Promise<void> } & ReplayTarget["fake"]>(
  label: string,
  wire: Wire,
  expected: Record<string, ResponseExpect[]>,
  startFake: () => Promise<F>,
  settings: (fake: F, file: string) => ProviderSettings,
): void {
  describe.skipIf(!recordingsPresent)(`replay: ${label} recordings${recordingsPresent ? "" : ` (skipped: ${SKIP_REASON})`}`, () => {
    let fake: F;
    beforeAll(async () => {
      fake = await startFake();
    });
    afterAll(async () => {
      await fake?.close();
    });

    it(`the table covers every ${label} recording`, () => {
      expect(Object.keys(expected).sort()).toEqual(recordingsOf(wire));
    });

    it.each(Object.entries(expected))("%s", async (file, responses) => {
      await checkRecording({ fake, settings: settings(fake, file) }, file, responses);
    });
  });
}
