// HTTP plumbing shared by the fake provider servers: a node:http server on port 0
// that tracks its sockets (close() ends them all, hung streams included), JSON body
// parsing, and the SSE player that streams a ScriptedReply through a vendor encoder
// with the scripted delays and failures.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { planTokens, type FakeScript, type ReceivedRequest, type ScriptedReply, type TokenOp } from "./fake-script.ts";

/** Turns streamed units into a vendor's SSE frames. Stateful: one per response. */
export interface StreamEncoder {
  /** Frames right after the headers, before any token (message_start, response.created...). */
  preamble(): string;
  token(op: TokenOp): string;
  /** Closes open blocks and sends the final frames (finish reason, usage, [DONE]...). */
  finish(): string;
  /** The vendor's in-stream error event. */
  midStreamError(status: number, body: unknown): string;
}

export interface StartedServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) => Promise<void>;

export async function startServer(route: RouteHandler): Promise<StartedServer> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    void readJson(req)
      .then((body) => {
        if (body === null) return sendJson(res, 400, { error: { message: "body is not a JSON object", type: "invalid_request_error" } });
        return route(req, res, body);
      })
      .catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: { message: `fake server bug: ${String(err)}`, type: "server_error" } });
        else res.destroy();
      });
  });
  server.on("connection", (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Answers a request the fake refuses before scripting (bad shape, unknown id...). */
export function reject(script: FakeScript, rec: ReceivedRequest, res: ServerResponse, status: number, body: unknown): void {
  sendJson(res, status, body);
  script.finish(rec, "rejected");
}

/** A Server-Sent Event frame; `event` omitted gives a data-only frame. */
export function sse(data: unknown, event?: string): string {
  const payload = typeof data === "string" ? data : JSON.stringify(data);
  return event ? `event: ${event}\ndata: ${payload}\n\n` : `data: ${payload}\n\n`;
}

export interface PlayOptions {
  script: FakeScript;
  rec: ReceivedRequest;
  reply: ScriptedReply;
  encoder: StreamEncoder;
  /** The vendor's error body for a status (used when the failure has no `body`). */
  errorBody: (status: number) => unknown;
  /** Extra response headers (request ids...). */
  headers?: Record<string, string>;
  /** Called once the stream completed normally (the Responses fake stores the response). */
  onCompleted?: () => void;
}

/** Streams one scripted reply, honoring delays and failures. Resolves when the response is over. */
export async function playStream(res: ServerResponse, opts: PlayOptions): Promise<void> {
  const { script, rec, reply, encoder } = opts;
  if (reply.sse) return playRaw(res, script, rec, reply.sse, reply.sliceBytes, opts.headers);
  const fail = reply.fail;
  if (typeof fail === "object" && !fail.midStream) {
    const headers: Record<string, string> = { ...opts.headers };
    if (fail.retryAfterSeconds !== undefined) headers["retry-after"] = String(fail.retryAfterSeconds);
    sendJson(res, fail.status, fail.body ?? opts.errorBody(fail.status), headers);
    script.finish(rec, "error-status");
    return;
  }

  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", ...opts.headers });
  rec.outcome = "streaming";
  res.once("close", () => {
    if (!res.writableEnded) script.finish(rec, fail === "hang" ? "hung" : "client-closed");
  });
  if (!(await write(res, encoder.preamble()))) return;
  if (fail === "hang") {
    res.flushHeaders();
    return; // Stays open until the client aborts or the fake closes.
  }

  const ops = planTokens(reply);
  // Failures strike after half the chunks (at least one), before the finish.
  const breakAt = fail === undefined ? -1 : Math.ceil(ops.length / 2);
  if (reply.firstTokenDelayMs) await sleep(reply.firstTokenDelayMs);

  for (let i = 0; i <= ops.length; i++) {
    if (res.destroyed) return;
    if (i === breakAt) {
      if (fail === "cut-mid-stream") {
        // Let what was written reach the client first, then drop the connection
        // without the chunked terminator: the client sees a body cut short.
        await new Promise<void>((resolve) => res.write("", () => resolve()));
        script.finish(rec, "cut");
        res.socket?.destroy();
        return;
      }
      if (fail === "end-mid-stream") {
        res.end();
        script.finish(rec, "cut");
        return;
      }
      if (typeof fail === "object") {
        await write(res, encoder.midStreamError(fail.status, fail.body ?? opts.errorBody(fail.status)));
        res.end();
        script.finish(rec, "error-mid-stream");
        return;
      }
    }
    const op = ops[i];
    if (!op) break;
    if (i > 0 && reply.tokenDelayMs) await sleep(reply.tokenDelayMs);
    if (res.destroyed) return;
    if (op.kind === "text" || op.kind === "reasoning" || op.first) script.markFirstToken(rec);
    if (!(await write(res, encoder.token(op)))) return;
  }
  if (!(await write(res, encoder.finish()))) return;
  res.end();
  opts.onCompleted?.();
  script.finish(rec, "completed");
}

/** Writes raw SSE as scripted: one write per string, or the whole body in `sliceBytes` pieces. */
async function playRaw(
  res: ServerResponse,
  script: FakeScript,
  rec: ReceivedRequest,
  frames: string[],
  sliceBytes: number | undefined,
  headers: Record<string, string> = {},
): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", ...headers });
  rec.outcome = "streaming";
  res.once("close", () => {
    if (!res.writableEnded) script.finish(rec, "client-closed");
  });
  let writes: Buffer[] = frames.map((f) => Buffer.from(f, "utf8"));
  if (sliceBytes !== undefined) {
    // Slices cut through JSON, multi-byte characters and frame boundaries alike.
    const all = Buffer.concat(writes);
    writes = [];
    for (let i = 0; i < all.length; i += sliceBytes) writes.push(all.subarray(i, i + sliceBytes));
  }
  for (const [i, chunk] of writes.entries()) {
    if (i === 0) script.markFirstToken(rec);
    if (sliceBytes === undefined) {
      if (!(await write(res, chunk))) return;
      continue;
    }
    // Sliced: each slice is handed to the socket before the next, so they leave as separate writes.
    if (res.destroyed) return;
    await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
  }
  res.end();
  script.finish(rec, "completed");
}

/** Writes with backpressure; false when the client is gone. */
async function write(res: ServerResponse, chunk: string | Buffer): Promise<boolean> {
  if (res.destroyed) return false;
  if (chunk.length === 0 || res.write(chunk)) return !res.destroyed;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
  return !res.destroyed;
}

/** The bearer token or x-api-key a request carried (for auth checks and realistic 401 bodies). */
export function presentedKey(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === "string" && auth.startsWith("Bearer ")) return auth.slice("Bearer ".length);
  const x = req.headers["x-api-key"];
  return typeof x === "string" ? x : null;
}

let idCounter = 0;
/** Unique-enough ids (`resp_…`, `msg_…`) for one test process. */
export function fakeId(prefix: string): string {
  idCounter += 1;
  return `${prefix}_${idCounter.toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}
