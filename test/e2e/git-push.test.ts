import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostOf, removeHome, requestVia, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";
import { commitAll, gitCli, gitOk, newRepo, remoteLines, remoteUrl, writeFiles } from "../git/helpers.ts";

const app = (version: string) => ({
  "index.html": `<h1>site ${version}</h1>\n`,
  "api/hi.ts": `export default () => Response.json({ version: ${JSON.stringify(version)} });\n`,
});

/**
 * `git push` against the real platform with the real git client: production from main, previews
 * with branch aliases, a failing build rejects the push and leaves production alone, the remote
 * survives a restart.
 */
describe("end to end: git push deploys", () => {
  let platform: RunningPlatform;
  let work: string;
  const cleanup: string[] = [];
  const url = () => remoteUrl(platform.apiUrl, "pushy", platform.token);
  const get = (label: string, path = "/") => requestVia(platform.routerUrl, `${label}.localhost`, path);
  const deploymentsOf = async (project: string) => {
    const r = await runFerryProcess(["ls", project, "--json"], { env: { FERRY_HOME: platform.home } });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).deployments as { id: string; url: string; state: string; target: string; production: boolean; git?: Record<string, unknown> }[];
  };

  beforeAll(async () => {
    platform = await startPlatformProcess();
    work = await newRepo(app("v1"), "first version");
    cleanup.push(work);
  });
  afterAll(async () => {
    await platform?.stop();
    if (platform) await removeHome(platform.home);
    for (const d of cleanup) await rm(d, { recursive: true, force: true });
  });

  it("asks for credentials: no token and a wrong token are refused, nothing is created", async () => {
    const none = await gitCli(["push", remoteUrl(platform.apiUrl, "pushy"), "main"], { cwd: work });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/could not read Username|terminal prompts disabled/);
    const wrong = await gitCli(["push", remoteUrl(platform.apiUrl, "pushy", "fry_wrong"), "main"], { cwd: work });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/Authentication failed/);
    const all = await runFerryProcess(["ls", "--all", "--json"], { env: { FERRY_HOME: platform.home } });
    expect(JSON.parse(all.stdout).deployments).toEqual([]);
  });

  it("pushing main deploys to production, streaming the build as remote: lines and ending with the URL", async () => {
    const r = await gitCli(["push", url(), "main"], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    const lines = remoteLines(r.stderr);
    expect(lines.some((l) => /Building pushy/.test(l)), r.stderr).toBe(true);
    const prod = lines.find((l) => l.startsWith("Production: "));
    expect(prod).toMatch(/^Production: http:\/\/pushy\.localhost:\d+$/);
    const page = await get("pushy");
    expect(page.status).toBe(200);
    expect(page.text).toContain("site v1");
    expect(JSON.parse((await get("pushy", "/api/hi")).text)).toEqual({ version: "v1" });
    const [d] = await deploymentsOf("pushy");
    expect(d).toMatchObject({ state: "READY", target: "production", production: true });
    const sha = (await gitOk(["rev-parse", "HEAD"], { cwd: work })).trim();
    expect(d!.git).toEqual({ sha, branch: "main", message: "first version", author: "Ada Lovelace <ada@example.test>" });
  });

  it("pushing an unchanged commit does nothing", async () => {
    const before = await deploymentsOf("pushy");
    const r = await gitCli(["push", url(), "main"], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("Everything up-to-date");
    expect(await deploymentsOf("pushy")).toHaveLength(before.length);
  });

  it("pushing another branch makes a preview at <project>-git-<branch>, production untouched", async () => {
    await gitOk(["checkout", "-q", "-b", "Feature/Shiny_Thing"], { cwd: work });
    await writeFiles(work, app("v2-preview"));
    await commitAll(work, "shiny");
    const r = await gitCli(["push", url(), "Feature/Shiny_Thing"], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect(remoteLines(r.stderr)).toContainEqual(expect.stringMatching(/^Preview: +http:\/\/pushy-git-feature-shiny-thing\.localhost:\d+$/));
    expect((await get("pushy-git-feature-shiny-thing")).text).toContain("site v2-preview");
    expect((await get("pushy")).text).toContain("site v1");
  });

  it("a force push (not a fast-forward) is accepted and moves the branch alias", async () => {
    await gitOk(["reset", "-q", "--hard", "main"], { cwd: work });
    await writeFiles(work, app("v3-rewritten"));
    await commitAll(work, "rewritten");
    const r = await gitCli(["push", "--force", url(), "Feature/Shiny_Thing"], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\+ [0-9a-f]+\.\.\.[0-9a-f]+ +Feature\/Shiny_Thing -> Feature\/Shiny_Thing \(forced update\)/);
    expect((await get("pushy-git-feature-shiny-thing")).text).toContain("site v3-rewritten");
  });

  it("deleting a branch removes its alias", async () => {
    const r = await gitCli(["push", url(), "--delete", "Feature/Shiny_Thing"], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect(remoteLines(r.stderr)).toContainEqual(expect.stringMatching(/Removed the preview alias http:\/\/pushy-git-feature-shiny-thing\.localhost/));
    expect((await get("pushy-git-feature-shiny-thing")).status).toBe(404);
    expect((await gitOk(["ls-remote", url()], { cwd: work }))).not.toContain("Feature/Shiny_Thing");
  });

  it("a push whose build fails exits non-zero, keeps the branch where it was and production as it was", async () => {
    await gitOk(["checkout", "-q", "main"], { cwd: work });
    const good = (await gitOk(["rev-parse", "HEAD"], { cwd: work })).trim();
    await writeFiles(work, { "api/broken.ts": "export default (req: Request => {\n" });
    await commitAll(work, "broken");
    const r = await gitCli(["push", url(), "main"], { cwd: work });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\[remote rejected\] main -> main \(pre-receive hook declined\)/);
    expect(remoteLines(r.stderr).join("\n")).toMatch(/api\/broken\.ts/);
    expect(remoteLines(r.stderr)).toContain("Production is unchanged.");
    expect((await gitOk(["ls-remote", url(), "refs/heads/main"], { cwd: work })).split(/\s/)[0]).toBe(good);
    expect((await get("pushy")).text).toContain("site v1");
    const [latest] = await deploymentsOf("pushy");
    expect(latest).toMatchObject({ state: "ERROR", production: false });
  });

  it("pushes racing to one branch are serialized: the alias ends on the commit the branch names", async () => {
    const a = await newRepo(app("race-a"), "race a");
    const b = await newRepo(app("race-b"), "race b");
    cleanup.push(a, b);
    const [ra, rb] = await Promise.all([gitCli(["push", "--force", url(), "main:race"], { cwd: a }), gitCli(["push", "--force", url(), "main:race"], { cwd: b })]);
    expect([ra.code, rb.code]).toContain(0);
    for (const r of [ra, rb]) if (r.code !== 0) expect(r.stderr).toMatch(/moved while this push waited|fetch first|cannot lock ref/);
    const head = (await gitOk(["ls-remote", url(), "refs/heads/race"], { cwd: a })).split(/\s/)[0];
    const winner = head === (await gitOk(["rev-parse", "HEAD"], { cwd: a })).trim() ? "race-a" : "race-b";
    expect((await get("pushy-git-race")).text).toContain(`site ${winner}`);
  });

  it("ferry git remote --add: a `ferry` remote whose token git's credential helper keeps, never .git/config", async () => {
    const home = await mkdtemp(join(tmpdir(), "ferry-git-home-"));
    const repo = await newRepo(app("via-remote"), "through the ferry remote");
    cleanup.push(home, repo);
    const env = { FERRY_HOME: platform.home, HOME: home, GIT_CONFIG_GLOBAL: join(home, ".gitconfig"), GIT_CONFIG_NOSYSTEM: "1" };
    const printed = await runFerryProcess(["git", "remote", "--project", "viaremote", "--json"], { env, cwd: repo });
    expect(printed.code, printed.stderr).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual({ project: "viaremote", url: `${platform.apiUrl}/git/viaremote.git` });
    const added = await runFerryProcess(["git", "remote", "--add", "--project", "viaremote"], { env, cwd: repo });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain("git push ferry main");
    expect(await readFile(join(repo, ".git/config"), "utf8")).not.toContain(platform.token);
    expect((await gitOk(["remote", "get-url", "ferry"], { cwd: repo })).trim()).toBe(`${platform.apiUrl}/git/viaremote.git`);
    const r = await gitCli(["push", "ferry", "main"], { cwd: repo, env: { HOME: home, GIT_CONFIG_GLOBAL: join(home, ".gitconfig") } });
    expect(r.code, r.stderr).toBe(0);
    expect((await get("viaremote")).text).toContain("site via-remote");
  });

  it("a project's production branch can be another one: ferry git branch", async () => {
    const set = await runFerryProcess(["git", "branch", "live", "--project", "pushy"], { env: { FERRY_HOME: platform.home } });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout.trim()).toBe("live");
    await gitOk(["checkout", "-q", "-b", "live", "main"], { cwd: work });
    await gitOk(["reset", "-q", "--hard", "HEAD~1"], { cwd: work });
    await writeFiles(work, app("v-live"));
    await commitAll(work, "live branch");
    const r = await gitCli(["push", url(), "live"], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect(remoteLines(r.stderr)).toContainEqual(expect.stringMatching(/^Production: http:\/\/pushy\.localhost:\d+$/));
    expect((await get("pushy")).text).toContain("site v-live");
    await runFerryProcess(["git", "branch", "main", "--project", "pushy"], { env: { FERRY_HOME: platform.home } });
    await gitOk(["checkout", "-q", "main"], { cwd: work });
  });

  it("ferry ls and ferry inspect show the commit; a CLI deploy from a work tree records it, dirty or not", async () => {
    const env = { FERRY_HOME: platform.home };
    const [d] = await deploymentsOf("pushy");
    const inspect = await runFerryProcess(["inspect", d!.id], { env });
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toMatch(/commit +[0-9a-f]{40}/);
    expect(inspect.stdout).toMatch(/branch +live/);
    expect(inspect.stdout).toMatch(/message +live branch/);
    expect(inspect.stdout).toMatch(/author +Ada Lovelace <ada@example\.test>/);
    const ls = await runFerryProcess(["ls", "pushy"], { env });
    expect(ls.stdout).toMatch(/COMMIT/);
    expect(ls.stdout).toMatch(/live [0-9a-f]{7}/);

    const repo = await newRepo({ ...app("cli"), "ferry.json": JSON.stringify({ name: "fromcli" }) }, "cli commit");
    cleanup.push(repo);
    const sha = (await gitOk(["rev-parse", "HEAD"], { cwd: repo })).trim();
    const clean = await runFerryProcess([repo, "--json"], { env });
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse(clean.stdout).git).toEqual({ sha, branch: "main", message: "cli commit", author: "Ada Lovelace <ada@example.test>", dirty: false });
    await writeFiles(repo, { "index.html": "changed, not committed" });
    const dirty = await runFerryProcess([repo, "--json"], { env });
    expect(dirty.code, dirty.stderr).toBe(0);
    expect(JSON.parse(dirty.stdout).git).toMatchObject({ sha, dirty: true });
    const shown = await runFerryProcess(["inspect", JSON.parse(dirty.stdout).id], { env });
    expect(shown.stdout).toContain("(with uncommitted changes)");
  });

  it("a deploy hook deploys the latest pushed commit of its branch, without a token", async () => {
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${platform.apiUrl}${path}`, { method, headers: { authorization: `Bearer ${platform.token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const made = await api("POST", "/v1/projects/pushy/deploy-hooks", { name: "cms", ref: "main" });
    expect(made.status).toBe(201);
    const hook = (await made.json()) as { id: string; url: string };
    expect(hook.url).toMatch(new RegExp(`^${platform.apiUrl}/v1/deploy-hooks/[A-Za-z0-9_-]{40,}$`));
    const listed = await (await api("GET", "/v1/projects/pushy/deploy-hooks")).json();
    expect(listed.deployHooks).toEqual([expect.objectContaining({ id: hook.id, name: "cms", ref: "main" })]);
    expect(JSON.stringify(listed)).not.toContain(hook.url.split("/").pop()!);

    const ran = await fetch(hook.url, { method: "POST" });
    expect(ran.status).toBe(201);
    const { job } = (await ran.json()) as { job: { id: string; state: string } };
    expect(job.id).toMatch(/^dpl_/);
    const main = (await gitOk(["ls-remote", url(), "refs/heads/main"], { cwd: work })).split(/\s/)[0];
    for (let i = 0; i < 200; i++) {
      const d = await (await api("GET", `/v1/deployments/${job.id}`)).json();
      if (d.state === "READY" && (await get("pushy")).text.includes("site v1")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const d = await (await api("GET", `/v1/deployments/${job.id}`)).json();
    expect(d).toMatchObject({ state: "READY", target: "production", git: { sha: main, branch: "main" } });
    expect((await get("pushy")).text).toContain("site v1");

    expect((await api("DELETE", `/v1/projects/pushy/deploy-hooks/${hook.id}`)).status).toBe(200);
    expect((await fetch(hook.url, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${platform.apiUrl}/v1/deploy-hooks/not-a-real-secret-at-all-no`, { method: "POST" })).status).toBe(404);
  });

  it("keeps repositories across a restart: push again after one", async () => {
    const home = platform.home;
    await platform.stop();
    platform = await startPlatformProcess({ home });
    expect((await gitOk(["ls-remote", url(), "refs/heads/main"], { cwd: work })).trim()).toMatch(/^[0-9a-f]{40}\trefs\/heads\/main$/);
    await gitOk(["reset", "-q", "--hard", "HEAD~1"], { cwd: work });
    await writeFiles(work, app("v4"));
    await commitAll(work, "after restart");
    const r = await gitCli(["push", url(), "main"], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect((await get("pushy")).text).toContain("site v4");
    // a fresh clone gets what was pushed
    const clone = `${work}-clone`;
    cleanup.push(clone);
    await gitOk(["clone", "-q", url(), clone]);
    expect((await gitOk(["log", "-1", "--format=%s"], { cwd: clone })).trim()).toBe("after restart");
  });
});
