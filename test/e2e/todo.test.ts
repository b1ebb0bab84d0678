import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes, createHash } from "node:crypto";
import { join } from "node:path";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { parseDotenv } from "../../cli/dotenv.ts";
import { ROOT, hostOf, removeHome, requestVia, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

/**
 * The todo example end to end: its stores are provisioned on deploy, the plain AWS SDK in its
 * functions reaches them, data survives redeploys and restarts, preview and production are
 * separate, and a sensitive secret reaches the function but never comes back out.
 */
describe("end to end: the todo example with stores and a secret", () => {
  let platform: RunningPlatform;
  let prodHost = "";
  let previewHost = "";
  const SECRET = `k-${randomBytes(12).toString("hex")}`;
  const env = () => ({ FERRY_HOME: platform.home });
  const app = join(ROOT, "examples/todo");
  const hostNow = (url: string) => `${new URL(url).hostname}:${new URL(platform.routerUrl).port}`;
  const post = (host: string, title: string, key?: string) =>
    requestVia(platform.routerUrl, host, "/api/todos", { method: "POST", body: JSON.stringify({ title }), headers: { "content-type": "application/json", ...(key ? { "x-write-key": key } : {}) } });

  beforeAll(async () => {
    platform = await startPlatformProcess();
  });
  afterAll(async () => {
    await platform?.stop();
    await removeHome(platform.home);
  });

  it("takes a sensitive secret from stdin byte for byte, and never shows it again", async () => {
    const add = await runFerryProcess(["env", "add", "TODO_WRITE_KEY", "--sensitive", "--environment", "production", "--project", "todo"], { env: env(), input: SECRET });
    expect(add.code, add.stderr).toBe(0);
    const ls = await runFerryProcess(["env", "ls", "--project", "todo", "--json"], { env: env() });
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).not.toContain(SECRET.slice(0, 10));
    expect(JSON.parse(ls.stdout).env).toEqual([expect.objectContaining({ key: "TODO_WRITE_KEY", environment: "production", sensitive: true })]);
    const raw = await fetch(`${platform.apiUrl}/v1/projects/todo/env?decrypt=1`, { headers: { authorization: `Bearer ${platform.token}` } });
    expect(await raw.text()).not.toContain(SECRET.slice(0, 10));
  });

  it("pulls non-sensitive values into a .env, multi-line values intact", async () => {
    const value = "line one\n  line \"two\"\n";
    const add = await runFerryProcess(["env", "add", "NOTES", "--environment", "preview", "--project", "todo"], { env: env(), input: value });
    expect(add.code, add.stderr).toBe(0);
    const dir = await mkdtemp(join(tmpdir(), "ferry-pull-"));
    const pull = await runFerryProcess(["env", "pull", "--environment", "preview", "--project", "todo"], { env: env(), cwd: dir });
    expect(pull.code, pull.stderr).toBe(0);
    const text = await readFile(join(dir, ".env"), "utf8");
    expect(parseDotenv(text).NOTES).toBe(value);
    expect(text).not.toContain(SECRET);
    const again = await runFerryProcess(["env", "pull", "--environment", "preview", "--project", "todo"], { env: env(), cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("--yes");
  });

  it("deploys to production with its stores, and the function uses the secret", async () => {
    const r = await runFerryProcess([app, "--prod", "--json"], { env: env(), timeoutMs: 240_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Linked kv store "todos" \(production\)/);
    const d = JSON.parse(r.stdout);
    prodHost = hostOf(d.aliases[0]);
    expect((await post(prodHost, "no key")).status).toBe(401);
    const created = await post(prodHost, "buy milk", SECRET);
    expect(created.status, created.text).toBe(201);
    const list = await requestVia(platform.routerUrl, prodHost, "/api/todos");
    expect(JSON.parse(list.text).map((t: { title: string }) => t.title)).toEqual(["buy milk"]);
  });

  it("stores and streams back a blob byte for byte", async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const put = await requestVia(platform.routerUrl, prodHost, "/api/attachments/photo1", { method: "PUT", body: bytes, headers: { "content-type": "image/png" } });
    expect(put.status, put.text).toBeLessThan(300);
    const got = await requestVia(platform.routerUrl, prodHost, "/api/attachments/photo1");
    expect(got.status).toBe(200);
    expect(got.headers["content-type"]).toBe("image/png");
    expect(createHash("sha256").update(got.body).digest("hex")).toBe(createHash("sha256").update(bytes).digest("hex"));
  });

  it("keeps preview data apart from production", async () => {
    const r = await runFerryProcess([app, "--json"], { env: env(), timeoutMs: 240_000 });
    expect(r.code, r.stderr).toBe(0);
    previewHost = hostOf(JSON.parse(r.stdout).url);
    expect(JSON.parse((await requestVia(platform.routerUrl, previewHost, "/api/todos")).text)).toEqual([]);
    // the production-only secret is not in preview, so preview writes need no key
    expect((await post(previewHost, "preview only")).status).toBe(201);
    expect(JSON.parse((await requestVia(platform.routerUrl, prodHost, "/api/todos")).text).map((t: { title: string }) => t.title)).toEqual(["buy milk"]);
    const stores = await runFerryProcess(["stores", "ls", "--project", "todo", "--json"], { env: env() });
    const list = JSON.parse(stores.stdout).stores as { name: string; environment: string; items: number }[];
    expect(list.map((s) => `${s.name}:${s.environment}`).sort()).toEqual(["attachments:preview", "attachments:production", "todos:preview", "todos:production"]);
    expect(list.find((s) => s.name === "todos" && s.environment === "production")?.items).toBe(1);
  });

  it("keeps the data across a forced redeploy and a platform restart", async () => {
    const r = await runFerryProcess([app, "--prod", "--force", "--json"], { env: env(), timeoutMs: 240_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/restored from cache/i);
    expect(await platform.stop()).toBe(0);
    platform = await startPlatformProcess({ home: platform.home });
    const host = hostNow(`http://${prodHost}`);
    const list = await requestVia(platform.routerUrl, host, "/api/todos");
    expect(list.status, list.text).toBe(200);
    expect(JSON.parse(list.text).map((t: { title: string }) => t.title)).toEqual(["buy milk"]);
    expect((await requestVia(platform.routerUrl, host, "/api/attachments/photo1")).body.length).toBe(3 * 1024 * 1024);
  });

  it("keeps a store's data when the deployment using it is removed", async () => {
    const rm = await runFerryProcess(["rm", `http://${previewHost}`], { env: env() });
    expect(rm.code, rm.stderr).toBe(0);
    const stores = JSON.parse((await runFerryProcess(["stores", "ls", "--project", "todo", "--json"], { env: env() })).stdout).stores;
    expect(stores.find((s: { name: string; environment: string }) => s.name === "todos" && s.environment === "preview")?.items).toBe(1);
  });

  it("deletes a store only after confirmation", async () => {
    const no = await runFerryProcess(["stores", "rm", "attachments", "--environment", "preview", "--project", "todo"], { env: env(), input: "wrong\n" });
    expect(no.code).toBe(1);
    expect(no.stderr).toContain("nothing was deleted");
    const yes = await runFerryProcess(["stores", "rm", "attachments", "--environment", "preview", "--project", "todo", "--yes", "--json"], { env: env() });
    expect(yes.code, yes.stderr).toBe(0);
    const stores = JSON.parse((await runFerryProcess(["stores", "ls", "--project", "todo", "--json"], { env: env() })).stdout).stores;
    expect(stores.length).toBe(3);
  });
});
