import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeHome, requestVia, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";
import { commitAll, gitOk, newRepo, startGitDaemon, writeFiles } from "./helpers.ts";

const site = (text: string) => ({ "index.html": `<p>${text}</p>\n` });

/**
 * A project linked to a repository on a git server (git daemon on loopback): provider webhooks
 * are verified before anything is fetched, fetch only from the linked URL, deploy pushes and
 * pull requests; `ferry deploy <git URL>#ref` deploys straight from a repository.
 */
describe("linked repositories: provider webhooks and deploys from a git URL", () => {
  let platform: RunningPlatform;
  let base: string;
  let daemon: Awaited<ReturnType<typeof startGitDaemon>>;
  let work: string;
  let hook: { webhookUrl: string; webhookSecret: string };
  const cleanup: string[] = [];
  const env = () => ({ FERRY_HOME: platform.home });
  const get = (label: string) => requestVia(platform.routerUrl, `${label}.localhost`, "/");
  const sign = (body: string, secret = hook.webhookSecret) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  const send = (body: unknown, headers: Record<string, string>) => {
    const raw = JSON.stringify(body);
    return fetch(hook.webhookUrl, { method: "POST", body: raw, headers: { "content-type": "application/json", ...headers } });
  };
  const github = (event: string, body: unknown, secret?: string) => send(body, { "x-github-event": event, "x-hub-signature-256": sign(JSON.stringify(body), secret) });
  const deployments = async () => JSON.parse((await runFerryProcess(["ls", "linked", "--json"], { env: env() })).stdout).deployments as { id: string; state: string; git?: Record<string, string> }[];
  const ready = async (id: string) => {
    for (let i = 0; i < 300; i++) {
      const d = (await deployments()).find((x) => x.id === id);
      if (d && d.state !== "QUEUED" && d.state !== "BUILDING") return d;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${id} did not finish`);
  };

  beforeAll(async () => {
    // the stand-in provider is a git daemon on loopback: the operator's opt-out allows it
    platform = await startPlatformProcess({ env: { FERRY_ALLOW_PRIVATE_GIT: "1" } });
    base = await mkdtemp(join(tmpdir(), "ferry-provider-"));
    cleanup.push(base);
    work = await newRepo(site("linked v1"), "v1");
    cleanup.push(work);
    await gitOk(["clone", "-q", "--bare", work, join(base, "upstream.git")]);
    // what a forged payload would point at instead
    const evil = await newRepo(site("evil"), "evil");
    cleanup.push(evil);
    await gitOk(["clone", "-q", "--bare", evil, join(base, "evil.git")]);
    daemon = await startGitDaemon(base);
    const r = await runFerryProcess(["git", "link", daemon.url("upstream.git"), "--project", "linked", "--json"], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    hook = JSON.parse(r.stdout);
  });
  afterAll(async () => {
    daemon?.stop();
    await platform?.stop();
    if (platform) await removeHome(platform.home);
    for (const d of cleanup) await rm(d, { recursive: true, force: true });
  });

  it("links a project and shows its webhook URL and secret once", async () => {
    expect(hook.webhookUrl).toMatch(new RegExp(`^${platform.apiUrl}/v1/git/webhooks/prj_[a-z0-9]+$`));
    expect(hook.webhookSecret.length).toBeGreaterThanOrEqual(24);
    const again = await runFerryProcess(["git", "link", daemon.url("upstream.git"), "--project", "linked", "--json"], { env: env() });
    expect(JSON.parse(again.stdout).webhookSecret).toBeUndefined();
  });

  it("refuses a forged or missing signature and fetches nothing", async () => {
    const sha = (await gitOk(["rev-parse", "HEAD"], { cwd: work })).trim();
    const body = { ref: "refs/heads/main", after: sha };
    const forged = await github("push", body, "not-the-secret");
    expect(forged.status).toBe(401);
    expect((await forged.json()).error.code).toBe("invalid_signature");
    expect((await send(body, { "x-github-event": "push" })).status).toBe(401);
    expect((await send(body, { "x-gitlab-event": "Push Hook", "x-gitlab-token": "wrong" })).status).toBe(401);
    expect(await deployments()).toEqual([]);
  });

  it("a signed push deploys the linked repository's commit to production, whatever URL the payload names", async () => {
    const sha = (await gitOk(["rev-parse", "HEAD"], { cwd: work })).trim();
    const r = await github("push", { ref: "refs/heads/main", after: sha, repository: { clone_url: daemon.url("evil.git") } });
    expect(r.status, await r.clone().text()).toBe(202);
    const { deployment } = await r.json();
    const d = await ready(deployment.id);
    expect(d).toMatchObject({ state: "READY", git: { sha, branch: "main", message: "v1", repo: daemon.url("upstream.git") } });
    expect((await get("linked")).text).toContain("linked v1");
  });

  it("GitLab's token header works too; a pushed branch becomes a preview", async () => {
    await gitOk(["checkout", "-q", "-b", "topic"], { cwd: work });
    await writeFiles(work, site("topic branch"));
    const sha = await commitAll(work, "topic");
    await gitOk(["push", "-q", join(base, "upstream.git"), "topic"], { cwd: work });
    const body = JSON.stringify({ object_kind: "push", ref: "refs/heads/topic", after: sha });
    const r = await fetch(hook.webhookUrl, { method: "POST", body, headers: { "content-type": "application/json", "x-gitlab-event": "Push Hook", "x-gitlab-token": hook.webhookSecret } });
    expect(r.status).toBe(202);
    await ready((await r.json()).deployment.id);
    for (let i = 0; i < 50 && !(await get("linked-git-topic")).text.includes("topic branch"); i++) await new Promise((res) => setTimeout(res, 200));
    expect((await get("linked-git-topic")).text).toContain("topic branch");
    expect((await get("linked")).text).toContain("linked v1");
  });

  it("a pull request gets a preview, removed when it closes", async () => {
    await writeFiles(work, site("pull request 7"));
    const sha = await commitAll(work, "pr 7");
    await gitOk(["push", "-q", join(base, "upstream.git"), `HEAD:refs/pull/7/head`], { cwd: work });
    const opened = await github("pull_request", { action: "opened", number: 7, pull_request: { number: 7, head: { sha, ref: "topic" } } });
    expect(opened.status).toBe(202);
    await ready((await opened.json()).deployment.id);
    for (let i = 0; i < 50 && !(await get("linked-git-pr-7")).text.includes("pull request 7"); i++) await new Promise((res) => setTimeout(res, 200));
    expect((await get("linked-git-pr-7")).text).toContain("pull request 7");
    const closed = await github("pull_request", { action: "closed", number: 7, pull_request: { number: 7 } });
    expect(closed.status).toBe(202);
    expect((await get("linked-git-pr-7")).status).toBe(404);
  });

  it("ferry deploy <git URL>#ref deploys straight from a repository", async () => {
    const r = await runFerryProcess(["deploy", `${daemon.url("upstream.git")}#topic`, "--json"], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ state: "READY", project: "upstream", git: { branch: "topic", message: "topic", repo: daemon.url("upstream.git"), dirty: false } });
    expect((await requestVia(platform.routerUrl, new URL(out.url).host, "/")).text).toContain("topic branch");
    const missing = await runFerryProcess(["deploy", `${daemon.url("upstream.git")}#no-such-branch`], { env: env() });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/could not clone/);
  });
});
