import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildResult } from "../../core/types.ts";
import { apiHarness } from "../helpers/api.ts";

const success: BuildResult = { type: "success", output: { version: 1, functions: [], static: [], routes: {} } };

describe("API: environment variables and secrets", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  let lastBuildEnv: Record<string, string> = {};
  beforeAll(async () => {
    h = await apiHarness(async (req) => {
      lastBuildEnv = req.buildEnv;
      return success;
    });
  });
  afterAll(async () => h.end());

  const envOf = async (id: string) => {
    const d = (await h.metadata.getDeployment(id))!;
    return JSON.parse(await h.encryptor.decrypt(d.envCipher!)) as Record<string, string>;
  };

  it("stores values encrypted and never returns sensitive ones", async () => {
    const multi = "line one\nline two\n  indented\n";
    expect((await h.call("POST", "/v1/projects/envapp/env", { json: { key: "GREETING", value: multi, environment: "production" } })).status).toBe(201);
    expect((await h.call("POST", "/v1/projects/envapp/env", { json: { key: "API_SECRET", value: "s3cr3t-value", environment: ["production", "preview"], sensitive: true } })).status).toBe(201);

    const stored = await h.metadata.listEnvVars("acc_a", "envapp");
    expect(stored.length).toBe(3);
    for (const v of stored) expect(v.valueCipher).not.toContain("s3cr3t");

    const listed = await (await h.call("GET", "/v1/projects/envapp/env?decrypt=1")).text();
    expect(listed).not.toContain("s3cr3t-value");
    const parsed = JSON.parse(listed).env as { key: string; value?: string; sensitive: boolean; environment: string }[];
    expect(parsed.find((v) => v.key === "GREETING")?.value).toBe(multi);
    expect(parsed.filter((v) => v.key === "API_SECRET").every((v) => v.sensitive && v.value === undefined)).toBe(true);
    // another account sees nothing
    expect((await (await h.call("GET", "/v1/projects/envapp/env", { token: h.tokenB })).json()).env).toEqual([]);
  });

  it("applies precedence --env > project env for the target > ferry.json env, and build env to builds only", async () => {
    await h.call("POST", "/v1/projects/envapp/env", { json: { key: "LEVEL", value: "project-prod", environment: "production" } });
    await h.call("POST", "/v1/projects/envapp/env", { json: { key: "LEVEL", value: "project-preview", environment: "preview" } });
    const files = await h.upload({ "ferry.json": JSON.stringify({ name: "envapp", env: { LEVEL: "config", FROM_CONFIG: "yes" }, build: { env: { BUILD_ONLY: "b" } } }) });

    const prod = await (await h.call("POST", "/v1/deployments", { json: { files, target: "production" } })).json();
    await h.waitFor(prod.id);
    expect(await envOf(prod.id)).toMatchObject({ LEVEL: "project-prod", FROM_CONFIG: "yes", API_SECRET: "s3cr3t-value" });
    expect(await envOf(prod.id)).not.toHaveProperty("BUILD_ONLY");
    // builds see Vercel's system variables too
    const host = (await h.metadata.getDeployment(prod.id))!.host;
    expect(lastBuildEnv).toEqual({
      BUILD_ONLY: "b",
      VERCEL: "1",
      VERCEL_ENV: "production",
      VERCEL_TARGET_ENV: "production",
      VERCEL_URL: `${host}.ferry.test`,
      VERCEL_PROJECT_PRODUCTION_URL: "envapp.ferry.test",
      VERCEL_DEPLOYMENT_ID: prod.id,
    });

    const preview = await (await h.call("POST", "/v1/deployments", { json: { files, env: { LEVEL: "flag" }, buildEnv: { X: "1" } } })).json();
    await h.waitFor(preview.id);
    expect((await envOf(preview.id)).LEVEL).toBe("flag");
    expect(lastBuildEnv).toMatchObject({ X: "1", VERCEL_ENV: "preview" });
    expect(await envOf(preview.id)).not.toHaveProperty("GREETING"); // production-only var
  });

  it("changes reach new deployments only", async () => {
    const files = await h.upload({ "index.html": "immutable" });
    const a = await (await h.call("POST", "/v1/deployments", { json: { name: "envapp", files, target: "production" } })).json();
    await h.waitFor(a.id);
    await h.call("POST", "/v1/projects/envapp/env", { json: { key: "LEVEL", value: "changed", environment: "production" } });
    expect((await envOf(a.id)).LEVEL).toBe("project-prod");
    const b = await (await h.call("POST", "/v1/deployments", { json: { name: "envapp", files, target: "production" } })).json();
    await h.waitFor(b.id);
    expect((await envOf(b.id)).LEVEL).toBe("changed");
  });

  it("validates names and rejects reserved ones", async () => {
    const bad = await h.call("POST", "/v1/projects/envapp/env", { json: { key: "1BAD", value: "x" } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toContain("1BAD");
    const reserved = await h.call("POST", "/v1/projects/envapp/env", { json: { key: "FERRY_PROJECT", value: "x" } });
    expect((await reserved.json()).error.code).toBe("reserved_env_key");
    const files = await h.upload({ "index.html": "flags" });
    const flag = await h.call("POST", "/v1/deployments", { json: { name: "envapp", files, env: { "BAD-NAME": "x" } } });
    expect(flag.status).toBe(400);
  });

  it("fails a deployment whose environment exceeds Lambda's 4 KB, naming the largest variable", async () => {
    const files = await h.upload({ "index.html": "big env" });
    const d = await (await h.call("POST", "/v1/deployments", { json: { name: "bigenv", files, env: { HUGE: "x".repeat(5000) } } })).json();
    const done = await h.waitFor(d.id);
    expect(done.state).toBe("ERROR");
    expect(done.errorCode).toBe("env_too_large");
    expect(done.errorMessage).toContain("HUGE");
  });

  it("removes a variable", async () => {
    expect((await h.call("DELETE", "/v1/projects/envapp/env/GREETING?environment=production")).status).toBe(200);
    expect((await h.call("DELETE", "/v1/projects/envapp/env/GREETING?environment=production")).status).toBe(404);
  });
});

describe("API: runtime logs", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  beforeAll(async () => {
    h = await apiHarness(async () => success);
  });
  afterAll(async () => h.end());

  it("returns a deployment's logs filtered by since, and follows new lines", async () => {
    const files = await h.upload({ "index.html": "logs" });
    const d = await (await h.call("POST", "/v1/deployments", { json: { name: "logged", files } })).json();
    await h.waitFor(d.id);
    const now = Date.now();
    h.logs.append({ ts: now - 60_000, deploymentId: d.id, stream: "stdout", text: "old line" });
    h.logs.append({ ts: now, deploymentId: d.id, stream: "request", text: "GET / 200", method: "GET", path: "/", status: 200, durationMs: 3, requestId: "r1" });
    const all = (await (await h.call("GET", `/v1/deployments/${d.id}/logs`)).text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(all.map((e) => e.text)).toEqual(["old line", "GET / 200"]);
    const recent = (await (await h.call("GET", `/v1/deployments/${d.id}/logs?since=30s`)).text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(recent.map((e) => e.text)).toEqual(["GET / 200"]);
    expect((await h.call("GET", `/v1/deployments/${d.id}/logs?since=yesterdayish`)).status).toBe(400);

    const res = await h.call("GET", `/v1/deployments/${d.id}/logs?follow=1&since=30s`);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("GET / 200");
    h.logs.append({ ts: Date.now() + 1, deploymentId: d.id, stream: "stderr", text: "live line" });
    let got = "";
    const decoder = new TextDecoder();
    // stop when the stream ends: a finished stream answers every read at once, so looping on
    // the text alone would spin without ever yielding to timers (the test timeout included)
    for (let r = await reader.read(); ; r = await reader.read()) {
      if (r.done) break;
      got += decoder.decode(r.value, { stream: true });
      if (got.includes("live line")) break;
    }
    expect(got).toContain("live line");
    await reader.cancel();
    // another account cannot read them
    expect((await h.call("GET", `/v1/deployments/${d.id}/logs`, { token: h.tokenB })).status).toBe(404);
  });
});
