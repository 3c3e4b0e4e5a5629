// Requests Node's HTTP parser refuses before Express sees them (headers or URL over
// the size limit, malformed request lines) get the same JSON error body as every
// other refusal, instead of Node's bare status line.
import type { Server } from "node:http";
import type { Duplex } from "node:stream";
import { AppError, toErrorBody } from "../domain/errors.ts";

export function answerClientErrors(server: Server): void {
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Nothing to answer on a connection the client already dropped.
    if (err.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const e =
      err.code === "HPE_HEADER_OVERFLOW"
        ? new AppError("headers_too_large", "request line and headers are too large")
        : new AppError("bad_request", "malformed HTTP request");
    const body = JSON.stringify(toErrorBody(e));
    const reason = e.status === 431 ? "Request Header Fields Too Large" : "Bad Request";
    socket.end(
      `HTTP/1.1 ${e.status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
