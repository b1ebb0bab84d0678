import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { ROOT, hostOf, removeHome, requestVia, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

const APP = join(ROOT, "test/fixtures/e2e/versioned");

describe("end to end: aliases under load, promotion, rollback and runtime logs", () => {
  let platform: RunningPlatform;
  const env = () => ({ FERRY_HOME: platform.home });
  const ferry = async (args: string[]) => {
    const r = await runFerryProcess(args, { env: env() });
    expect(r.code, r.stderr).toBe(0);
    return args.includes("--json") ? JSON.parse(r.stdout) : r;
  };
  let v1: { id: string; url: string };
  let v2: { id: string; url: string };

  beforeAll(async () => {
    platform = await startPlatformProcess();
    v1 = await ferry([APP, "--name", "versioned", "--env", "VERSION=1", "--prod", "--json"]);
    v2 = await ferry([APP, "--name", "versioned", "--env", "VERSION=2", "--json"]);
  });
  afterAll(async () => {
    await platform?.stop();
    await removeHome(platform.home);
  });

  it("moves an alias atomically: under concurrent load every request sees v1 or v2, none fails", async () => {
    await ferry(["alias", "set", v1.id, "live", "--json"]);
    const port = new URL(platform.routerUrl).port;
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const results: string[] = [];
    let stop = false;
    const one = () =>
      new Promise<string>((resolve) => {
        const req = request({ host: "127.0.0.1", port, path: "/api/version", agent, headers: { host: `live.localhost:${port}` } }, (res) => {
          let body = "";
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve(`${res.statusCode} ${body}`));
        });
        req.on("error", (e) => resolve(`error ${e.message}`));
        req.end();
      });
    const workers = Array.from({ length: 6 }, async () => {
      while (!stop) results.push(await one());
    });
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 150));
      await ferry(["alias", "set", i % 2 ? v1.id : v2.id, "live", "--json"]);
    }
    await new Promise((r) => setTimeout(r, 150));
    stop = true;
    await Promise.all(workers);
    agent.destroy();
    const bad = results.filter((r) => r !== "200 v1" && r !== "200 v2");
    expect(results.length).toBeGreaterThan(50);
    expect(bad).toEqual([]);
    expect(results).toContain("200 v1");
    expect(results).toContain("200 v2");
  });

  it("never serves a removed alias, even from the router's cache", async () => {
    await ferry(["alias", "set", v2.id, "gone-soon", "--json"]);
    const host = `gone-soon.localhost:${new URL(platform.routerUrl).port}`;
    expect((await requestVia(platform.routerUrl, host, "/api/version")).text).toBe("v2");
    await ferry(["alias", "rm", "gone-soon", "--json"]);
    expect((await requestVia(platform.routerUrl, host, "/api/version")).status).toBe(404);
  });

  it("promotes and rolls back production", async () => {
    const prod = `versioned.localhost:${new URL(platform.routerUrl).port}`;
    expect((await requestVia(platform.routerUrl, prod, "/api/version")).text).toBe("v1");
    await ferry(["promote", v2.id, "--json"]);
    expect((await requestVia(platform.routerUrl, prod, "/api/version")).text).toBe("v2");
    const back = await ferry(["rollback", "versioned", "--json"]);
    expect(back.deploymentId).toBe(v1.id);
    expect((await requestVia(platform.routerUrl, prod, "/api/version")).text).toBe("v1");
    const aliases = await ferry(["alias", "ls", "--json"]);
    expect(aliases.aliases).toContainEqual(expect.objectContaining({ alias: "versioned", deploymentId: v1.id }));
  });

  it("answers 500 for an exception and logs a stack that points at the original source line", async () => {
    const r = await requestVia(platform.routerUrl, hostOf(v1.url), "/api/boom");
    expect(r.status).toBe(500);
    let text = "";
    for (let i = 0; i < 50 && !text.includes("boom.ts"); i++) {
      text = (await runFerryProcess(["logs", v1.id, "--json"], { env: env() })).stdout;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(text).toContain("kaboom from the versioned app");
    expect(text).toMatch(/api\/boom\.ts:3:\d+/);
  });

  it("captures function output and one line per request, kept across a restart", async () => {
    const r = await requestVia(platform.routerUrl, hostOf(v2.url), "/api/version?log=hello-logs");
    expect(r.status).toBe(200);
    const requestId = r.headers["x-ferry-request-id"];
    expect(requestId).toBeTruthy();
    const read = async () => {
      for (let i = 0; i < 50; i++) {
        const out = await runFerryProcess(["logs", v2.id, "--json"], { env: env() });
        const lines = out.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
        if (lines.some((l) => l.stream === "request" && l.path === "/api/version")) return lines;
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error("no request line logged");
    };
    let lines = await read();
    expect(lines).toContainEqual(expect.objectContaining({ stream: "stdout", text: "version 2 says hello-logs", deploymentId: v2.id }));
    expect(lines).toContainEqual(expect.objectContaining({ stream: "stderr", text: "a warning from 2" }));
    expect(lines).toContainEqual(expect.objectContaining({ stream: "request", method: "GET", status: 200, requestId }));
    expect(lines.every((l) => typeof l.ts === "number")).toBe(true);

    expect(await platform.stop()).toBe(0);
    platform = await startPlatformProcess({ home: platform.home });
    lines = await read();
    expect(lines).toContainEqual(expect.objectContaining({ stream: "stdout", text: "version 2 says hello-logs" }));
    const text = await runFerryProcess(["logs", v2.id, "--since", "1h"], { env: env() });
    expect(text.stdout).toMatch(/\[stdout\] version 2 says hello-logs/);
  });
});
