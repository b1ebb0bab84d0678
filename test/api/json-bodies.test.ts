import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildResult } from "../../core/types.ts";
import { apiHarness } from "../helpers/api.ts";

const success: BuildResult = { type: "success", output: { version: 1, functions: [], static: [], routes: {} } };

type Op = { method: string; path: string; requestBody?: { content?: Record<string, unknown> }; "x-ferry-body-limit"?: number };

/** Every operation of the OpenAPI document that takes a JSON body, with its path params filled in. */
async function jsonOperations(h: Awaited<ReturnType<typeof apiHarness>>): Promise<Op[]> {
  const doc = await (await h.call("GET", "/v1/openapi.json", { token: null })).json();
  const out: Op[] = [];
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, Op>>)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!op.requestBody?.content?.["application/json"]) continue;
      out.push({ ...op, method: method.toUpperCase(), path: path.replace(/\{[A-Za-z]+\}/g, "p") });
    }
  }
  return out;
}

describe("API: JSON request bodies are parsed strictly on every route", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  let ops: Op[];
  beforeAll(async () => {
    h = await apiHarness(async () => success);
    ops = await jsonOperations(h);
  });
  afterAll(async () => h.end());

  const send = (op: Op, body: string | Uint8Array | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
    h.api.app.request(op.path, {
      method: op.method,
      headers: { authorization: `Bearer ${h.tokenA}`, "content-type": "application/json", ...headers },
      body,
      ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit);

  it("finds the JSON routes in the OpenAPI document", () => {
    expect(ops.map((o) => `${o.method} ${o.path}`).sort()).toEqual(["POST /v1/aliases", "POST /v1/deployments", "POST /v1/projects/p/env", "POST /v1/tokens", "PUT /v1/projects/p/git", "POST /v1/projects/p/deploy-hooks", "POST /v1/webhooks"].sort());
  });

  it("a truncated body never creates a token with default scopes", async () => {
    const before = (await h.metadata.listTokens("acc_a")).length;
    const r = await h.call("POST", "/v1/tokens", { body: '{"scopes": [', headers: { "content-type": "application/json" } });
    expect(r.status).toBe(400);
    expect((await r.json()).error.code).toBe("invalid_json");
    expect((await h.metadata.listTokens("acc_a")).length).toBe(before);
  });

  it.each([
    ["truncated", '{"a": ['],
    ["not JSON at all", "name=x&scopes=*"],
    ["empty", ""],
    ["a trailing comma", '{"name": "x",}'],
    ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
  ])("answers a %s body with 400 invalid_json on every JSON route", async (_what, body) => {
    for (const op of ops) {
      const r = await send(op, body);
      expect(r.status, `${op.method} ${op.path}`).toBe(400);
      expect((await r.json()).error.code, `${op.method} ${op.path}`).toBe("invalid_json");
    }
  });

  it.each([["an array", "[]"], ["a string", '"x"'], ["null", "null"], ["a number", "42"]])("answers %s instead of an object with 400 invalid_request", async (_what, body) => {
    for (const op of ops) {
      const r = await send(op, body);
      expect(r.status, `${op.method} ${op.path}`).toBe(400);
      expect((await r.json()).error.code, `${op.method} ${op.path}`).toBe("invalid_request");
    }
  });

  it("rejects unknown fields on every JSON route, naming the field", async () => {
    for (const op of ops) {
      const r = await send(op, JSON.stringify({ surpriseField: 1 }));
      expect(r.status, `${op.method} ${op.path}`).toBe(400);
      const e = (await r.json()).error;
      expect(e.code).toBe("invalid_request");
      expect(e.message, `${op.method} ${op.path}`).toContain("surpriseField");
      expect(e.issues).toContainEqual({ field: "surpriseField", message: "unknown field" });
    }
  });

  it.each([
    ["/v1/tokens", { scopes: "logs" }, "scopes"],
    ["/v1/tokens", { name: 5 }, "name"],
    ["/v1/tokens", { scopes: ["logs", 7] }, "scopes[1]"],
    ["/v1/tokens", { scopes: ["everything"] }, "scopes[0]"],
    ["/v1/tokens", { scopes: [] }, "scopes"],
    ["/v1/projects/app/env", { key: "A", value: 1 }, "value"],
    ["/v1/projects/app/env", { key: "A", value: "v", sensitive: "yes" }, "sensitive"],
    ["/v1/projects/app/env", { key: "A", value: "v", environment: "staging" }, "environment"],
    ["/v1/aliases", { alias: "x", deployment: 1 }, "deployment"],
    ["/v1/deployments", { name: "x", files: {} }, "files"],
    ["/v1/deployments", { name: "x", files: [{ file: "a", sha: "0".repeat(40), size: "1" }] }, "files[0].size"],
    ["/v1/deployments", { name: "x", files: [], force: "yes" }, "force"],
  ])("POST %s %j: 400 invalid_request naming %s", async (path, body, field) => {
    const r = await h.call("POST", path, { json: body });
    expect(r.status).toBe(400);
    const e = (await r.json()).error;
    expect(e.code).toBe("invalid_request");
    expect(e.field).toBe(field);
    expect(e.message).toContain(field);
  });

  it("documents a body limit on every JSON route and answers 413 body_too_large past it, by Content-Length and while reading", async () => {
    for (const op of ops) {
      const limit = op["x-ferry-body-limit"]!;
      expect(limit, `${op.method} ${op.path}`).toBeGreaterThan(0);
      // declared too large: refused from the header alone, before any byte is read
      let pulled = 0;
      const untouched = new ReadableStream<Uint8Array>({ pull: (c) => { pulled++; c.enqueue(new Uint8Array(1024)); } });
      const declared = await send(op, untouched, { "content-length": String(limit + 1) });
      expect(declared.status, `${op.method} ${op.path}`).toBe(413);
      expect((await declared.json()).error).toMatchObject({ code: "body_too_large", limit });
      expect(pulled, "read before refusing").toBeLessThanOrEqual(1);

      // chunked (no Content-Length): counted while reading, stopped soon after the limit
      let sent = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull: (c) => {
          sent += 64 * 1024;
          c.enqueue(new Uint8Array(64 * 1024).fill(0x20));
        },
      });
      const chunked = await send(op, endless);
      expect(chunked.status, `${op.method} ${op.path}`).toBe(413);
      expect((await chunked.json()).error.code).toBe("body_too_large");
      expect(sent).toBeLessThan(limit + 4 * 64 * 1024);
    }
  });

  it("sizes the deployment route for the file limit: a list of maxFiles files with long paths fits", async () => {
    const doc = await (await h.call("GET", "/v1/openapi.json", { token: null })).json();
    const limit = doc.paths["/v1/deployments"].post["x-ferry-body-limit"] as number;
    const tokens = doc.paths["/v1/tokens"].post["x-ferry-body-limit"] as number;
    expect(tokens).toBe(1024 * 1024);
    // 100 files (the harness's maxFiles) with 700-byte paths: still under the limit
    const files = Array.from({ length: 100 }, (_, i) => ({ file: `${"d".repeat(200)}/${"e".repeat(200)}/${"f".repeat(250)}/${String(i).padStart(10, "0")}.js`, sha: "a".repeat(40), size: 1000, mode: 0o100644 }));
    expect(JSON.stringify({ name: "big", files }).length).toBeLessThan(limit);
    const r = await h.call("POST", "/v1/deployments", { json: { name: "big", files } });
    expect((await r.json()).error.code).toBe("missing_files");
  });
});
