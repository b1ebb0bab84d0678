import type { InvokeStreamEvent } from "../../runtime/lambda/stream-response.ts";

/** Lines of a streamed invocation's payload; a function error ends the stream with an error. */
export async function* readLines(events: AsyncIterable<InvokeStreamEvent>): AsyncGenerator<string> {
  let buf = "";
  const decoder = new TextDecoder();
  for await (const e of events) {
    if (e.PayloadChunk?.Payload) {
      buf += decoder.decode(e.PayloadChunk.Payload, { stream: true });
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line) yield line;
      }
    }
    if (e.InvokeComplete?.ErrorCode) throw new Error(`the build worker failed: ${e.InvokeComplete.ErrorCode} ${e.InvokeComplete.ErrorDetails ?? ""}`);
  }
  if (buf) yield buf;
}
