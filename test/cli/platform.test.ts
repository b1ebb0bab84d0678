import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../cli/main.ts";
import type { Io } from "../../cli/io.ts";
import { hostOf, removeHome, requestVia, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

/**
 * The CLI in-process against a real platform process: which project each command acts on, how
 * `ls` shows production, and what a function that dies while loading leaves in its logs.
 */
describe("ferry commands against a running platform", () => {
  let platform: RunningPlatform;
  let app = "";
  const cli = async (args: string[], opts: { cwd?: string; stdin?: Buffer } = {}) => {
    let stdout = "";
    let stderr = "";
    const io: Io = {
      stdout: (s) => void (stdout += s),
      stderr: (s) => void (stderr += s),
      tty: false,
      env: { FERRY_HOME: platform.home },
      cwd: opts.cwd ?? app,
      readStdin: async () => opts.stdin ?? Buffer.alloc(0),
      readLine: async () => "",
    };
    const code = await runCli(args, io);
    return { code, stdout, stderr, json: () => JSON.parse(stdout) };
  };
  const ok = async (args: string[], opts?: { cwd?: string; stdin?: Buffer }) => {
    const r = await cli(args, opts);
    expect(r.code, `ferry ${args.join(" ")}: ${r.stderr}`).toBe(0);
    return r;
  };
  let v1 = { id: "", url: "", project: "" };
  let v2 = { id: "", url: "", project: "" };

  beforeAll(async () => {
    platform = await startPlatformProcess();
    // an app folder that names its project in ferry.json (the other sources: see cli.test.ts)
    app = await mkdtemp(join(tmpdir(), "ferry-cli-app-"));
    await writeFile(join(app, "ferry.json"), JSON.stringify({ name: "inferred-app" }));
    await mkdir(join(app, "api"));
    await writeFile(join(app, "api/hi.js"), 'export default () => { console.log(`hello from ${process.env.VERSION}`); return new Response(`v${process.env.VERSION}`); };\n');
    v1 = (await ok(["--prod", "--env", "VERSION=1", "--json"])).json();
    v2 = (await ok(["--prod", "--env", "VERSION=2", "--json"])).json();
  });
  afterAll(async () => {
    await platform?.stop();
    if (platform) await removeHome(platform.home);
  });

  it("names the project from the folder the way deploy does", () => {
    expect(v1.project).toBe("inferred-app");
    expect(v2.project).toBe("inferred-app");
  });

  it("marks the production deployment in ls, as a column and as production: true", async () => {
    const ls = (await ok(["ls", "--json"])).json();
    expect(ls.project).toBe("inferred-app");
    const byId = Object.fromEntries(ls.deployments.map((d: { id: string; production: boolean }) => [d.id, d.production]));
    expect(byId).toEqual({ [v1.id]: false, [v2.id]: true });
    const text = (await ok(["ls"])).stdout.split("\n");
    expect(text[0]).toMatch(/^AGE\s+PROJECT\s+STATE\s+PROD\s+URL\s+ID$/);
    expect(text.find((l) => l.includes(v2.id))).toMatch(/READY\s+\*\s+http/);
    expect(text.find((l) => l.includes(v1.id))).not.toContain("*");
  });

  it("says a named project does not exist, exit 1", async () => {
    const r = await cli(["ls", "no-such-project"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: project "no-such-project" does not exist\n');
    expect((await cli(["ls", "--project", "no-such-project"])).code).toBe(1);
    const rollback = await cli(["rollback", "no-such-project"]);
    expect(rollback.code).toBe(1);
    expect(rollback.stderr).toContain('project "no-such-project" does not exist');
    // a folder that was never deployed lists every project instead
    const elsewhere = await mkdtemp(join(tmpdir(), "ferry-cli-empty-"));
    const all = await cli(["ls", "--json"], { cwd: elsewhere });
    expect(all.code).toBe(0);
    expect(all.json().deployments.map((d: { id: string }) => d.id)).toContain(v1.id);
  });

  it("logs, env, stores and rollback act on the folder's project; a positional or --project overrides", async () => {
    expect((await requestVia(platform.routerUrl, hostOf(v2.url), "/api/hi")).text).toBe("v2");
    let logs = "";
    for (let i = 0; i < 50 && !logs.includes("hello from 2"); i++) {
      logs = (await ok(["logs", "--json"])).stdout;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(logs).toContain('"deploymentId":"' + v2.id);
    expect((await ok(["logs", "--project", "inferred-app", "--json"])).stdout).toContain("hello from 2");
    expect((await ok(["logs", v1.id, "--json"])).stdout).not.toContain("hello from 2");

    await ok(["env", "add", "FROM_FOLDER", "yes"]);
    const env = (await ok(["env", "ls", "--json"])).json();
    expect(env.project).toBe("inferred-app");
    expect(env.env.map((v: { key: string }) => v.key)).toContain("FROM_FOLDER");
    expect((await ok(["env", "ls", "--project", "other", "--json"])).json().env).toEqual([]);
    expect((await ok(["stores", "ls"])).stderr).toBe("No stores in inferred-app.\n");

    const back = (await ok(["rollback", "--json"])).json();
    expect(back).toMatchObject({ project: "inferred-app", deploymentId: v1.id });
    expect((await ok(["ls", "--json"])).json().deployments.find((d: { production: boolean }) => d.production).id).toBe(v1.id);
    await ok(["promote", v2.id, "--json"]);
  });

  it("keeps a value from stdin byte for byte", async () => {
    const value = Buffer.from("  two\nlines, no trim \r\n\n");
    await ok(["env", "add", "PIPED", "--environment", "preview"], { stdin: value });
    const res = await fetch(`${platform.apiUrl}/v1/projects/inferred-app/env?environment=preview&decrypt=1`, { headers: { authorization: `Bearer ${platform.token}` } });
    const { env } = (await res.json()) as { env: { key: string; value: string }[] };
    expect(env.find((v) => v.key === "PIPED")?.value).toBe(value.toString("utf8"));
  });

  describe("a function that exits while loading", () => {
    let crash = { url: "", id: "" };
    beforeAll(async () => {
      const dir = await mkdtemp(join(tmpdir(), "ferry-cli-crash-"));
      await mkdir(join(dir, "api"));
      // it exports a handler, so it builds, but it exits while loading, before it can serve
      await writeFile(join(dir, "api/boot.js"), 'console.error("cannot start: DATABASE_URL is not set");\nprocess.exit(3);\nexport default () => new Response("never");\n');
      await writeFile(join(dir, "index.html"), "x");
      crash = (await ok([dir, "--name", "crashes-at-load", "--json"])).json();
    });

    it("answers 502 and leaves its stderr in the runtime log", async () => {
      const r = await requestVia(platform.routerUrl, hostOf(crash.url), "/api/boot");
      expect(r.status).toBe(502);
      expect(JSON.parse(r.text).error.code).toMatch(/^function_(crashed|load_failed)$/);
      let text = "";
      for (let i = 0; i < 50 && !text.includes("DATABASE_URL"); i++) {
        text = (await ok(["logs", crash.id])).stdout;
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(text).toContain("[stderr] cannot start: DATABASE_URL is not set");
    });

    // the platform's own line says why the start failed, beside the function's stderr
    it("logs that the function failed to start, with its exit code", async () => {
      await requestVia(platform.routerUrl, hostOf(crash.url), "/api/boot");
      let text = "";
      for (let i = 0; i < 20 && !/function_(crashed|load_failed)|exit code 3/.test(text); i++) {
        text = (await ok(["logs", crash.id])).stdout;
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(text).toMatch(/exit code 3/);
    });
  });
});
