import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { cp, mkdtemp, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/platform-process.ts";

const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

/** A copy of what the CLI is built from, so its sources can be edited without touching the repo. */
async function copyOfCli() {
  const dir = await mkdtemp(join(tmpdir(), "ferry-compiled-"));
  temps.push(dir);
  for (const part of ["bin", "scripts", "cli", "core", "tsconfig.json", "package.json"]) await cp(join(ROOT, part), join(dir, part), { recursive: true, preserveTimestamps: true });
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

const run = (dir: string, args: string[]) => {
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: "utf8", env: { ...process.env, FERRY_API_URL: "", FERRY_TOKEN: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe("ferry runs the compiled CLI only while it matches the sources", () => {
  it("runs dist/cli.mjs when current, the edited sources when not, and the rebuilt bundle after a build", async () => {
    const dir = await copyOfCli();
    const build = run(dir, ["scripts/build.mjs", "cli"]);
    expect(build.code, build.stderr).toBe(0);
    expect(build.stderr).toContain("built dist/cli.mjs");
    // a second build has nothing to do
    expect(run(dir, ["scripts/build.mjs", "cli"]).stderr).toBe("");

    // current: what runs is the bundle (marked here without touching any source)
    const bundle = join(dir, "dist/cli.mjs");
    await writeFile(bundle, (await readFile(bundle, "utf8")).replace("deploys the folder", "deploys the folder (compiled)"));
    expect(run(dir, ["bin/ferry.mjs", "--help"]).stdout).toContain("deploys the folder (compiled)");

    // an edited source makes the bundle stale: the sources run, edit included
    const main = join(dir, "cli/main.ts");
    await writeFile(main, (await readFile(main, "utf8")).replace("deploys the folder", "deploys the folder (edited)"));
    const later = new Date(Date.now() - 1000);
    await utimes(main, later, later);
    const edited = run(dir, ["bin/ferry.mjs", "--help"]);
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toContain("deploys the folder (edited)");

    // a build brings the bundle up to date with the edit
    expect(run(dir, ["scripts/build.mjs", "cli"]).stderr).toContain("built dist/cli.mjs");
    await writeFile(bundle, (await readFile(bundle, "utf8")).replace("deploys the folder (edited)", "deploys the folder (edited, compiled)"));
    expect(run(dir, ["bin/ferry.mjs", "--help"]).stdout).toContain("deploys the folder (edited, compiled)");
  });
});
