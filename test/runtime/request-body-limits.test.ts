import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionConfigFor } from "../../builder/function-config.ts";
import { parseFerryConfig } from "../../core/config/schema.ts";
import { isFerryError } from "../../core/errors.ts";
import type { LogEntry } from "../../core/logs/port.ts";
import { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BODY_BYTES } from "../../runtime/local/body.ts";
import { createLocalHost } from "../../runtime/local/index.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import { ctx, eventually, fixtureFunction, request, scratch, targetOf } from "./helpers.ts";

describe("ferry.json: functions.<glob>.streamingBody", () => {
  it("is a boolean, and reaches the functions it matches", () => {
    const config = parseFerryConfig({ functions: { "api/upload/*.ts": { streamingBody: true } } });
    expect(functionConfigFor("api/upload/big.ts", config)).toMatchObject({ streamingBody: true });
    expect(functionConfigFor("api/other.ts", config).streamingBody).toBeUndefined();
    expect(() => parseFerryConfig({ functions: { "api/*.ts": { streamingBody: "yes" } } })).toThrow('functions["api/*.ts"].streamingBody');
  });
});

describe("local host: request body limits", () => {
  it("defaults to Lambda's 6 MB payload limit and a 30 s body timeout", () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(6 * 1024 * 1024);
    expect(DEFAULT_BODY_TIMEOUT_MS).toBe(30_000);
  });

  let s: Awaited<ReturnType<typeof scratch>>;
  let host: FunctionHost;
  const logs: LogEntry[] = [];
  beforeAll(async () => {
    s = await scratch();
    host = createLocalHost({ blobs: s.blobs, cacheDir: s.cacheDir, maxRequestBodyBytes: 1024, onLog: (e) => logs.push(e) });
  });
  afterAll(async () => {
    await host.close();
    await s.cleanup();
  });

  it("refuses a body over the limit with 413 before starting an instance, and logs the request", async () => {
    const fn = await fixtureFunction(s.blobs, "dpl_limit", "echo.mjs");
    const err = await host.invoke(targetOf("dpl_limit", fn), request("/echo", { method: "POST", body: "x".repeat(1025) }), ctx()).catch((e: unknown) => e);
    expect(isFerryError(err) && { code: err.code, status: err.status }).toEqual({ code: "payload_too_large", status: 413 });
    expect(host.stats().instances).toBe(0);
    await eventually(() => logs.some((l) => l.stream === "request" && l.status === 413 && l.text.startsWith("POST /echo 413")));
    const ok = await host.invoke(targetOf("dpl_limit", fn), request("/echo", { method: "POST", body: "x".repeat(1024) }), ctx());
    expect((await ok.text()).length).toBe(1024);
  });

  it("streams to a function with streamingBody, past the limit", async () => {
    const fn = await fixtureFunction(s.blobs, "dpl_limit", "echo.mjs", { name: "upload", config: { streamingBody: true } });
    const res = await host.invoke(targetOf("dpl_limit", fn), request("/upload", { method: "POST", body: "y".repeat(10_000) }), ctx());
    expect((await res.text()).length).toBe(10_000);
  });
});
