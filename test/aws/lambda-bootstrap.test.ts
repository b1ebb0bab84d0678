// The Lambda bootstrap and both ends of the invoke path in process: function URL events (payload
// 2.0, the shape of fixtures/function-url-event.json) into Web Requests, Responses into Lambda's
// HTTP streaming format through the same `awslambda` global the runtime client gives handlers,
// and a streamed invocation back into a Response.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain .mjs without types
import { createHandler, eventToRequest } from "../../runtime/lambda/bootstrap.mjs";
import { clfTime, requestToEvent, type FunctionUrlEvent } from "../../runtime/lambda/event.ts";
import { responseFromStream, type InvokeStreamEvent } from "../../runtime/lambda/stream-response.ts";
// @ts-expect-error plain .mjs without types
import { asResponseStream, awslambdaGlobal, PRELUDE_CONTENT_TYPE } from "./helpers/runtime-client.mjs";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/function-url-event.json", import.meta.url), "utf8")) as FunctionUrlEvent;

/** Runs a handler module's exports through the bootstrap for one event; returns the bytes written. */
async function run(mod: Record<string, unknown>, event: unknown) {
  const handler = createHandler(async () => mod, "function", { lambda: awslambdaGlobal() });
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on("data", (c: Buffer) => chunks.push(c));
  const stream = asResponseStream(sink);
  await handler(event, stream);
  return { bytes: Buffer.concat(chunks), contentType: stream.contentType as string, writes: chunks.length };
}

function split(bytes: Buffer) {
  const at = bytes.indexOf(Buffer.alloc(8));
  return { prelude: JSON.parse(bytes.subarray(0, at).toString("utf8")), body: bytes.subarray(at + 8) };
}

const keysDeep = (o: unknown, prefix = ""): string[] =>
  o && typeof o === "object" && !Array.isArray(o)
    ? Object.entries(o).flatMap(([k, v]) => (["headers", "queryStringParameters"].includes(k) ? [prefix + k] : [prefix + k, ...keysDeep(v, `${prefix}${k}.`)]))
    : [];

const powertools = existsSync(new URL("../../node_modules/@aws-lambda-powertools/parser", import.meta.url));

describe("function URL events", () => {
  it.skipIf(!powertools)("the fixture and the host's events are valid LambdaFunctionUrlSchema events", async () => {
    const { LambdaFunctionUrlSchema } = createRequire(import.meta.url)("@aws-lambda-powertools/parser/schemas");
    LambdaFunctionUrlSchema.parse(fixture);
    LambdaFunctionUrlSchema.parse(await requestToEvent(new Request("https://a.example.com/x?y=1", { method: "POST", body: "hi", headers: { cookie: "a=1" } })));
  });

  it("the host's event has the function URL's shape: the same fields, cookies apart, base64 body, the log time format", async () => {
    const req = new Request("https://shop.apps.example.com/api/items/7?tag=a&tag=b&q=hello%20world", {
      method: "POST",
      headers: { cookie: "session=abc123; theme=dark", "content-type": "application/octet-stream", "user-agent": "curl/8.5.0", "x-forwarded-for": "203.0.113.7" },
      body: Uint8Array.from([0, 1, 2, 255]),
    });
    const e = await requestToEvent(req);
    expect(keysDeep(e).sort()).toEqual(keysDeep(fixture).sort());
    expect(e).toMatchObject({
      rawPath: "/api/items/7",
      rawQueryString: fixture.rawQueryString,
      cookies: fixture.cookies,
      queryStringParameters: { tag: "a,b", q: "hello world" },
      body: fixture.body,
      isBase64Encoded: true,
      requestContext: { http: { method: "POST", path: "/api/items/7", sourceIp: "203.0.113.7", userAgent: "curl/8.5.0" } },
    });
    expect(e.headers.cookie).toBeUndefined();
    expect(e.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(clfTime(new Date(fixture.requestContext.timeEpoch))).toBe(fixture.requestContext.time);
    const routed = await requestToEvent(new Request("https://x.example.com/a"), { path: "/api/b?c=1", params: { id: "7" }, headers: { "X-Ferry-Deployment": "dpl_1" } });
    expect(routed).toMatchObject({ rawPath: "/api/b", rawQueryString: "c=1", headers: { "x-ferry-params": '{"id":"7"}', "x-ferry-deployment": "dpl_1" }, isBase64Encoded: false });
    expect(routed.body).toBeUndefined();
  });

  it("the bootstrap turns a function URL event into the Request the app sees", async () => {
    const r: Request = eventToRequest(fixture);
    expect(r.method).toBe("POST");
    expect(r.url).toBe(`https://${fixture.headers.host}/api/items/7?tag=a&tag=b&q=hello%20world`);
    expect(r.headers.get("cookie")).toBe("session=abc123; theme=dark");
    expect(r.headers.get("x-multi")).toBe("one,two");
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(Uint8Array.from([0, 1, 2, 255]));
    const get: Request = eventToRequest({ ...fixture, requestContext: { ...fixture.requestContext, http: { ...fixture.requestContext.http, method: "GET" } }, body: "ignored", isBase64Encoded: false });
    expect(get.body).toBeNull();
    const text: Request = eventToRequest({ ...fixture, body: "plain text", isBase64Encoded: false });
    expect(await text.text()).toBe("plain text");
  });
});

describe("the bootstrap's streamed response", () => {
  it("buffered: the HTTP integration prelude, 8 NUL bytes, the body, cookies in their own array", async () => {
    const mod = {
      POST: async (req: Request) => {
        const h = new Headers({ "content-type": "application/json", "x-seen-cookie": req.headers.get("cookie") ?? "" });
        h.append("set-cookie", "a=1; HttpOnly");
        h.append("set-cookie", "b=2");
        return new Response(JSON.stringify({ len: (await req.arrayBuffer()).byteLength }), { status: 201, headers: h });
      },
    };
    const { bytes, contentType } = await run(mod, fixture);
    expect(contentType).toBe(PRELUDE_CONTENT_TYPE);
    const prelude = { statusCode: 201, headers: { "content-type": "application/json", "x-seen-cookie": "session=abc123; theme=dark" }, cookies: ["a=1; HttpOnly", "b=2"] };
    expect(bytes.equals(Buffer.concat([Buffer.from(JSON.stringify(prelude)), Buffer.alloc(8), Buffer.from('{"len":4}')]))).toBe(true);
  });

  it("streaming: each chunk written as the body produces it; an empty body still sends the prelude", async () => {
    const enc = new TextEncoder();
    const mod = { default: () => new Response(new ReadableStream({ start(c) { c.enqueue(enc.encode("data: 1\n\n")); c.enqueue(enc.encode("data: 2\n\n")); c.close(); } }), { headers: { "content-type": "text/event-stream" } }) };
    const { bytes, writes } = await run(mod, fixture);
    expect(writes).toBeGreaterThanOrEqual(4); // prelude, delimiter, and each event
    expect(split(bytes)).toMatchObject({ prelude: { statusCode: 200, headers: { "content-type": "text/event-stream" }, cookies: [] } });
    expect(split(bytes).body.toString()).toBe("data: 1\n\ndata: 2\n\n");
    const empty = await run({ default: () => new Response(null, { status: 204 }) }, fixture);
    expect(split(empty.bytes)).toEqual({ prelude: { statusCode: 204, headers: {}, cookies: [] }, body: Buffer.alloc(0) });
  });

  it("a handler that throws or returns something else is a 500 the visitor sees", async () => {
    for (const mod of [{ default: () => { throw new Error("boom"); } }, { default: () => "not a response" }, { nothing: 1 }]) {
      const { bytes } = await run(mod, fixture);
      expect(split(bytes).prelude.statusCode).toBe(500);
      expect(split(bytes).body.toString()).toBe("Internal Server Error");
    }
  });
});

describe("a streamed invocation back into a Response", () => {
  const events = async function* (chunks: (Uint8Array | InvokeStreamEvent)[]): AsyncGenerator<InvokeStreamEvent> {
    for (const c of chunks) yield c instanceof Uint8Array ? { PayloadChunk: { Payload: c } } : c;
  };
  const wire = (prelude: object, body: string) => Buffer.concat([Buffer.from(JSON.stringify(prelude)), Buffer.alloc(8), Buffer.from(body)]);

  it("a prelude split anywhere, even one byte a chunk, gives status, headers, cookies and the body", async () => {
    const bytes = wire({ statusCode: 418, headers: { "x-a": "1" }, cookies: ["c=1", "d=2"] }, "short and stout");
    const res = await responseFromStream(events([...bytes].map((b) => Uint8Array.of(b))), { "x-ferry-id": "r1" });
    expect(res.status).toBe(418);
    expect(res.headers.get("x-a")).toBe("1");
    expect(res.headers.getSetCookie()).toEqual(["c=1", "d=2"]);
    expect(res.headers.get("x-ferry-id")).toBe("r1");
    expect(await res.text()).toBe("short and stout");
  });

  it("failures: before the prelude a 502 (504 on timeout), after it the body errors; no prelude at all is a 502", async () => {
    await expect(responseFromStream(events([{ InvokeComplete: { ErrorCode: "Unhandled", ErrorDetails: "TypeError: x" } }]))).rejects.toMatchObject({ status: 502, code: "function_crashed" });
    await expect(responseFromStream(events([{ InvokeComplete: { ErrorCode: "Sandbox.Timedout", ErrorDetails: "Task timed out after 3.00 seconds" } }]))).rejects.toMatchObject({ status: 504 });
    await expect(responseFromStream(events([Buffer.alloc(70 * 1024, 65)]))).rejects.toMatchObject({ status: 502, code: "function_invalid_response" });
    await expect(responseFromStream(events([Buffer.from("not json"), Buffer.alloc(8)]))).rejects.toMatchObject({ status: 502 });
    const res = await responseFromStream(events([wire({ statusCode: 200 }, "part"), { InvokeComplete: { ErrorCode: "Unhandled" } }]));
    await expect(res.text()).rejects.toMatchObject({ code: "function_crashed" });
  });
});
