import { FerryError } from "../../core/errors.ts";

/** What InvokeWithResponseStream yields: payload chunks, then one completion event. */
export type InvokeStreamEvent = {
  PayloadChunk?: { Payload?: Uint8Array };
  InvokeComplete?: { ErrorCode?: string; ErrorDetails?: string; LogResult?: string };
};

/** The content type a streaming handler's response has when it begins with an HTTP prelude. */
export const HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";
const DELIMITER = 8; // NUL bytes between the JSON prelude and the body

/**
 * Turns a streamed invocation into a Web Response as soon as the prelude
 * (`{statusCode, headers, cookies}` + 8 NUL bytes) has arrived; the body streams on from the
 * remaining chunks, so SSE and large answers reach the visitor as the function writes them.
 * A function error before the prelude is a 502 (504 for a timeout); after it, the body aborts.
 */
export async function responseFromStream(events: AsyncIterable<InvokeStreamEvent>, extraHeaders: Record<string, string> = {}): Promise<Response> {
  const it = events[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let rest: Buffer | null = null;
  let prelude: { statusCode?: number; headers?: Record<string, string>; cookies?: string[] } | null = null;
  while (!prelude) {
    const { value, done } = await it.next();
    if (done) throw new FerryError("function_invalid_response", "the function ended without a response", 502);
    if (value.InvokeComplete) throw completionError(value.InvokeComplete, head);
    if (!value.PayloadChunk?.Payload) continue;
    head = Buffer.concat([head, value.PayloadChunk.Payload]);
    const at = findDelimiter(head);
    if (at < 0) {
      if (head.length > 64 * 1024) throw new FerryError("function_invalid_response", "the function's response has no HTTP prelude", 502);
      continue;
    }
    try {
      prelude = JSON.parse(head.subarray(0, at).toString("utf8"));
    } catch {
      throw new FerryError("function_invalid_response", "the function's response prelude is not JSON", 502);
    }
    rest = head.subarray(at + DELIMITER);
  }
  const headers = new Headers();
  for (const [k, v] of Object.entries(prelude.headers ?? {})) headers.set(k, String(v));
  for (const c of prelude.cookies ?? []) headers.append("set-cookie", c);
  for (const [k, v] of Object.entries(extraHeaders)) headers.set(k, v);
  const status = prelude.statusCode ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 599) throw new FerryError("function_invalid_response", `the function answered with status ${status}`, 502);
  const noBody = status === 204 || status === 304;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      if (rest?.length && !noBody) c.enqueue(new Uint8Array(rest));
    },
    async pull(c) {
      const { value, done } = await it.next();
      if (done) return c.close();
      if (value.InvokeComplete) {
        if (value.InvokeComplete.ErrorCode) c.error(completionError(value.InvokeComplete, Buffer.alloc(0)));
        else c.close();
        return;
      }
      const p = value.PayloadChunk?.Payload;
      if (p?.length && !noBody) c.enqueue(p);
    },
    async cancel() {
      await it.return?.();
    },
  });
  return new Response(noBody ? null : body, { status, headers });
}

function findDelimiter(b: Buffer): number {
  let run = 0;
  for (let i = 0; i < b.length; i++) {
    run = b[i] === 0 ? run + 1 : 0;
    if (run === DELIMITER) return i - DELIMITER + 1;
  }
  return -1;
}

function completionError(done: NonNullable<InvokeStreamEvent["InvokeComplete"]>, payload: Buffer): FerryError {
  const details = done.ErrorDetails || payload.toString("utf8").slice(0, 500);
  if (/timed? ?out/i.test(`${done.ErrorCode} ${details}`)) return new FerryError("function_timeout", "the function exceeded its maxDuration", 504);
  if (!done.ErrorCode) return new FerryError("function_invalid_response", "the function ended without a response", 502);
  return new FerryError("function_crashed", `the function failed (${done.ErrorCode})${details ? `: ${details}` : ""}`, 502);
}
