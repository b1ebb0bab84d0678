import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { ROOT, hostOf, removeHome, requestVia, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

/**
 * The quick start, as a new user runs it: start the embedded platform, deploy examples/hello with
 * the real CLI, open both URLs, restart the platform, open them again.
 */
describe("end to end: the hello example on the embedded platform", () => {
  let platform: RunningPlatform;
  let deployment: { id: string; url: string; state: string; project: string; aliases: string[] };
  const env = () => ({ FERRY_HOME: platform.home });

  beforeAll(async () => {
    platform = await startPlatformProcess();
  });
  afterAll(async () => {
    await platform?.stop();
    await removeHome(platform.home);
  });

  it("deploys with one command and prints the deployment as JSON", async () => {
    const r = await runFerryProcess([join(ROOT, "examples/hello"), "--json", "--prod"], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    deployment = JSON.parse(r.stdout);
    expect(deployment).toMatchObject({ state: "READY", project: "hello" });
    expect(deployment.url).toMatch(/^http:\/\/hello-[a-z0-9]{8}\.localhost:\d+$/);
    expect(deployment.aliases).toEqual([expect.stringMatching(/^http:\/\/hello\.localhost:\d+$/)]);
    // progress goes to stderr: hashing, uploading, build log, ready
    expect(r.stderr).toMatch(/Hashed \d+ files/);
    expect(r.stderr).toMatch(/Uploading \d+ files?/);
    expect(r.stderr).toMatch(/Ready: http:\/\/hello-/);
  });

  it("serves the static page and the function through the router", async () => {
    const page = await requestVia(platform.routerUrl, hostOf(deployment.url), "/");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    expect(page.text).toContain("Hello from Ferry");
    const fn = await requestVia(platform.routerUrl, hostOf(deployment.url), "/api/hi");
    expect(fn.status).toBe(200);
    expect(JSON.parse(fn.text)).toMatchObject({ message: expect.any(String) });
    // the instance sends none (it would only be parsed and passed on): the router's answer has one
    expect(new Date(String(fn.headers.date)).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const prod = await requestVia(platform.routerUrl, hostOf(deployment.aliases[0]!), "/api/hi");
    expect(prod.status).toBe(200);
    expect(await requestVia(platform.routerUrl, "nope-12345678.localhost", "/").then((r) => r.status)).toBe(404);
  });

  it("redeploys without changes: uploads nothing and skips the build", async () => {
    const r = await runFerryProcess([join(ROOT, "examples/hello"), "--json"], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("Uploaded 0 B");
    expect(r.stderr).toMatch(/build skipped/i);
    expect(JSON.parse(r.stdout).state).toBe("READY");
  });

  it("lists deployments", async () => {
    const r = await runFerryProcess(["ls", "--json"], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const { deployments } = JSON.parse(r.stdout);
    expect(deployments.map((d: { id: string }) => d.id)).toContain(deployment.id);
  });

  it("keeps serving every READY deployment after a restart", async () => {
    expect(await platform.stop("SIGINT")).toBe(0);
    platform = await startPlatformProcess({ home: platform.home });
    const routerPort = new URL(platform.routerUrl).port;
    const host = `${new URL(deployment.url).hostname}:${routerPort}`;
    const page = await requestVia(platform.routerUrl, host, "/");
    expect(page.status).toBe(200);
    expect(page.text).toContain("Hello from Ferry");
    const fn = await requestVia(platform.routerUrl, host, "/api/hi");
    expect(fn.status).toBe(200);
    const ls = await runFerryProcess(["ls", "--json"], { env: env() });
    expect(JSON.parse(ls.stdout).deployments.length).toBe(2);
  });

  it("rejects a wrong token with 401 and a clear message", async () => {
    const r = await runFerryProcess(["ls"], { env: { ...env(), FERRY_TOKEN: "fry_wrong" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Error: invalid token");
  });
});

describe("end to end: scoped tokens and login", () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatformProcess();
  });
  afterAll(async () => {
    await platform?.stop();
    await removeHome(platform.home);
  });

  it("creates a deploy-only token that cannot read env vars, logs in with it, and revokes it", async () => {
    const env = { FERRY_HOME: platform.home };
    const created = await runFerryProcess(["tokens", "create", "ci", "--scopes", "deployments", "--json"], { env });
    expect(created.code, created.stderr).toBe(0);
    const { token, id } = JSON.parse(created.stdout);
    expect(token).toMatch(/^fry_/);

    const ls = await runFerryProcess(["ls", "--json", "--token", token], { env });
    expect(ls.code, ls.stderr).toBe(0);
    const envLs = await runFerryProcess(["env", "ls", "--project", "x", "--token", token], { env });
    expect(envLs.code).toBe(1);
    expect(envLs.stderr).toContain('lacks the "env" scope');

    // login saves the pair, which then wins over the embedded platform's admin token
    const home = await import("node:fs/promises").then((fs) => fs.mkdtemp(join(ROOT, ".ferry-login-")));
    try {
      const login = await runFerryProcess(["login", "--api", platform.apiUrl, "--token", token], { env: { FERRY_HOME: home } });
      expect(login.code, login.stderr).toBe(0);
      const who = await runFerryProcess(["whoami", "--json"], { env: { FERRY_HOME: home } });
      expect(JSON.parse(who.stdout).tokenId).toBe(id);
    } finally {
      await removeHome(home);
    }

    const rm = await runFerryProcess(["tokens", "rm", id], { env });
    expect(rm.code, rm.stderr).toBe(0);
    const after = await runFerryProcess(["ls", "--token", token], { env });
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("invalid token");
  });
});
