import type { IncomingMessage } from "node:http";
import { FerryError } from "../../core/errors.ts";

export interface BodyLimits {
  /** the largest body received; a larger one is refused with 413 */
  maxBytes: number;
  /** how long the whole body may take to arrive, from when the host is handed the request */
  timeoutMs: number;
}

/** Lambda's payload limit for a synchronous invoke. */
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

export const tooLarge = (limits: BodyLimits) =>
  new FerryError("payload_too_large", `the request body is larger than ${limits.maxBytes} bytes, the most a function accepts`, 413);
const timedOut = (limits: BodyLimits) =>
  new FerryError("request_body_timeout", `the request body did not arrive within ${limits.timeoutMs / 1000} s`, 408);
/** 499, nginx's "client closed request": nobody is left to answer */
export const clientGone = () => new FerryError("client_closed_request", "the client went away while sending the request body", 499);

/**
 * A request's body, received whole before an instance is taken for it: a visitor who trickles
 * a body then holds a socket and some memory, never one of a function's few instance slots.
 * Resolves with null when the request has no body; rejects with 413 `payload_too_large` (at once
 * when Content-Length says so), 408 `request_body_timeout` when it is not all there within
 * `timeoutMs`, or 499 `client_closed_request` when the visitor leaves first.
 */
export function receiveBody(request: Request, incoming: IncomingMessage | undefined, limits: BodyLimits): Promise<Buffer | null> {
  if (incoming) {
    const declared = incoming.headers["content-length"];
    // a request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 §6.3)
    if (declared === undefined ? incoming.headers["transfer-encoding"] === undefined : declared === "0") return Promise.resolve(null);
    if (declared !== undefined && Number(declared) > limits.maxBytes) return Promise.reject(tooLarge(limits));
    if (incoming.readableEnded) return Promise.resolve(null);
    return fromNode(incoming, limits);
  }
  if (!request.body) return Promise.resolve(null);
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limits.maxBytes) return Promise.reject(tooLarge(limits));
  return fromWeb(request.body, limits);
}

function fromNode(incoming: IncomingMessage, limits: BodyLimits): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err: FerryError | null) => {
      clearTimeout(timer);
      incoming.off("data", onData).off("end", onEnd).off("error", onAbort).off("close", onAbort);
      // what is still on its way is read and dropped: the error answer closes the connection
      if (err) reject(err);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) done(tooLarge(limits));
      else chunks.push(chunk);
    };
    const onEnd = () => done(null);
    const onAbort = () => done(clientGone());
    const timer = setTimeout(() => done(timedOut(limits)), limits.timeoutMs);
    incoming.on("data", onData).on("end", onEnd).on("error", onAbort).on("close", onAbort);
  });
}

async function fromWeb(body: ReadableStream<Uint8Array>, limits: BodyLimits): Promise<Buffer | null> {
  const reader = body.getReader();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut(limits)), limits.timeoutMs);
  });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const r = await Promise.race([reader.read(), deadline]).catch((e: unknown) => {
        throw e instanceof FerryError ? e : clientGone();
      });
      if (r.done) break;
      size += r.value.length;
      if (size > limits.maxBytes) throw tooLarge(limits);
      chunks.push(r.value);
    }
    return Buffer.concat(chunks, size);
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
