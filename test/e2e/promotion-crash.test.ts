import { mkdtemp, mkdir, readFile, writeFile } from "node:fs/promises";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, removeHome, requestVia, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

const ALIASES = Array.from({ length: 60 }, (_, i) => `crashy-${i}`);
// test-only: each label move waits this long, so the platform can be killed mid-promotion
const SLOW = { FERRY_TEST_PROMOTE_STEP_DELAY_MS: "25" };

describe("end to end: kill -9 during a promotion", () => {
  let platform: RunningPlatform | undefined;
  let home = "";
  afterAll(async () => {
    await platform?.stop();
    if (home) await removeHome(home);
  });

  const app = async (text: string) => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-crashy-"));
    await mkdir(join(dir, "public"));
    await writeFile(join(dir, "ferry.json"), JSON.stringify({ name: "crashy", alias: ALIASES }));
    await writeFile(join(dir, "public", "index.html"), text);
    return dir;
  };

  it("every alias agrees with the project's production deployment after a restart", { timeout: 240_000 }, async () => {
    platform = await startPlatformProcess({ env: SLOW });
    home = platform.home;
    const env = { FERRY_HOME: home };
    const deploy = async (text: string) => {
      const r = await runFerryProcess([await app(text), "--prod", "--json"], { env });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).id as string;
    };
    const one = await deploy("one");
    await deploy("two");

    // promote the first again and kill the platform while its labels move (61 x 25 ms)
    const promote = spawn(process.execPath, [join(ROOT, "bin/ferry.mjs"), "promote", one], { env: { ...process.env, ...env, FERRY_API_URL: "", FERRY_TOKEN: "" }, stdio: "ignore" });
    // kill once the promotion is under way: some labels moved to `one`, some not yet
    const auth = { authorization: `Bearer ${platform.token}` };
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await fetch(`${platform.apiUrl}/v1/aliases`, { headers: auth }).then((x) => x.json()).catch(() => null);
      const on = ((r?.aliases ?? []) as { deploymentId: string }[]).filter((a) => a.deploymentId === one).length;
      if ((on > 0 && on < 40) || Date.now() > deadline) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    platform.proc.kill("SIGKILL");
    await new Promise((r) => platform!.proc.once("exit", r));
    promote.kill("SIGKILL");

    platform = await startPlatformProcess({ home, env: SLOW });
    const info = JSON.parse(await readFile(join(home, "server.json"), "utf8"));
    const bodies = new Map<string, string>();
    for (const label of ["crashy", ...ALIASES]) {
      const r = await requestVia(info.routerUrl, `${label}.localhost`, "/");
      expect(r.status, label).toBe(200);
      bodies.set(label, r.text.trim());
    }
    const served = new Set(bodies.values());
    expect(served.size, JSON.stringify(Object.fromEntries(bodies))).toBe(1);
    // and it is the deployment the project's record names
    const ls = JSON.parse((await runFerryProcess(["ls", "crashy", "--json"], { env })).stdout);
    const prod = ls.deployments.find((d: { production?: boolean }) => d.production);
    expect(served).toEqual(new Set([prod.id === one ? "one" : "two"]));
  });
});
