// What keeps one build on the build worker Lambda from reaching another account: per-build
// credentials narrowed by a session policy (minted through moto's STS), a scratch folder kept only
// for the same account, and no process surviving a build (checked in a PID namespace of its own,
// as a Lambda sandbox is, with bubblewrap).
import { execFileSync, spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSessionName, buildSessionPolicy, mintBuildCredentials } from "../../runtime/lambda/build-credentials.ts";
import { createScratch } from "../../runtime/lambda/build-scratch.ts";
import { ROOT } from "../helpers/platform-process.ts";
import { FAKE_CREDENTIALS, hasMoto, REGION, startMoto } from "./helpers/moto.ts";

/** IAM's resource wildcard: `*` is any run of characters, `/` included. */
const allows = (pattern: string, arn: string) => new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(arn);

describe("the session policy of one build", () => {
  const policy = buildSessionPolicy({ partition: "aws", bucket: "ferry-blobs", accountId: "acc_a", deploymentId: "dpl_1" });
  const may = (action: string, key: string) =>
    policy.Statement.some((s) => s.Action.includes(action) && s.Resource.some((r) => allows(r, `arn:aws:s3:::ferry-blobs/${key}`)));

  it("reads the account's uploads and writes its own deployment's artifacts", () => {
    expect(may("s3:GetObject", "files/acc_a/" + "a".repeat(40))).toBe(true);
    expect(may("s3:PutObject", "deployments/dpl_1/functions/api/index.mjs")).toBe(true);
    expect(may("s3:PutObject", "files/acc_a/" + "b".repeat(40))).toBe(true);
  });

  it("reaches no other account's uploads, no other deployment, no build output or metadata of the platform", () => {
    expect(may("s3:GetObject", "files/acc_b/" + "a".repeat(40))).toBe(false);
    expect(may("s3:GetObject", "files/acc_ab/" + "a".repeat(40))).toBe(false);
    expect(may("s3:PutObject", "deployments/dpl_2/functions/api/index.mjs")).toBe(false);
    expect(may("s3:PutObject", "deployments/dpl_1/output.json")).toBe(false);
    expect(may("s3:GetObject", "deployments/dpl_1/functions/api/index.mjs")).toBe(false);
    expect(may("s3:DeleteObject", "files/acc_a/" + "a".repeat(40))).toBe(false);
    const list = policy.Statement.find((s) => s.Action.includes("s3:ListBucket"))!;
    expect(list.Condition).toEqual({ StringLike: { "s3:prefix": ["files/acc_a/*"] } });
  });

  it("names the session after the deployment, within STS's rules", () => {
    expect(buildSessionName("dpl_abc")).toBe("ferry-build-dpl_abc");
    expect(buildSessionName("x".repeat(100))).toMatch(/^[\w+=,.@-]{2,64}$/);
  });
});

describe.skipIf(!(await hasMoto()))("minting a build's credentials through STS (moto)", () => {
  let moto: Awaited<ReturnType<typeof startMoto>>;
  beforeAll(async () => {
    moto = await startMoto();
  }, 30_000);
  afterAll(async () => moto?.stop());

  it("assumes the build role for the build's length and returns temporary credentials", async () => {
    const sts = new STSClient({ region: REGION, endpoint: moto.endpoint, credentials: FAKE_CREDENTIALS });
    const before = Date.now();
    const c = await mintBuildCredentials({ sts, roleArn: "arn:aws:iam::123456789012:role/ferry-build", bucket: "ferry-blobs", req: { accountId: "acc_a", deploymentId: "dpl_1" }, durationSeconds: 1200 });
    expect(c.accessKeyId).toMatch(/^ASIA/);
    expect(c.sessionToken.length).toBeGreaterThan(20);
    expect(c.expiration - before).toBeGreaterThan(1100_000);
    expect(c.expiration - before).toBeLessThan(1300_000);
  });
});

describe("the build worker's scratch folder", () => {
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), "ferry-scratch-"));
  });
  afterAll(async () => rm(base, { recursive: true, force: true }));

  it("keeps the cache for the next build of the same account, clears all of it for another's", async () => {
    const scratch = createScratch(base);
    await scratch.claim("acc_a");
    await mkdir(join(base, "cache", "accounts", "acc_a"), { recursive: true });
    await writeFile(join(base, "cache", "accounts", "acc_a", "dep.js"), "cached");
    expect(await scratch.claim("acc_a")).toBe(false);
    expect(await readdir(base)).toEqual(["cache"]);

    // what a hostile build of acc_a leaves for acc_b: a poisoned cache, a claim to be acc_b's, a folder it cannot read
    await mkdir(join(base, "cache", "accounts", "acc_b"), { recursive: true });
    await writeFile(join(base, "cache", "accounts", "acc_b", "dep.js"), "poisoned");
    await writeFile(join(base, ".ferry-account"), "acc_b");
    await mkdir(join(base, "locked", "inner"), { recursive: true });
    await chmod(join(base, "locked"), 0o000);
    expect(await scratch.claim("acc_b")).toBe(true);
    expect(await readdir(base)).toEqual([]);
  });

  it("a new worker process trusts nothing it finds", async () => {
    await writeFile(join(base, "left.txt"), "from before");
    expect(await createScratch(base).claim("acc_a")).toBe(true);
    expect(await readdir(base)).toEqual([]);
  });
});

const bwrap = spawnSync("bwrap", ["--version"]).status === 0;

describe.skipIf(!bwrap && !process.env.CI)("no process outlives a build", () => {
  it("kills what the build left running, detached or not, and spares the worker and its ancestors", () => {
    // the worker's side, in a PID namespace of its own (a Lambda sandbox is one)
    const script = `
      import { spawn, execSync } from "node:child_process";
      import { reapStrays } from "${join(ROOT, "runtime/lambda/build-scratch.ts")}";
      const child = spawn("sleep", ["300"], { stdio: "ignore" });
      // a daemon: its parent exits, it is left to the namespace's init
      execSync("sh -c 'setsid sleep 301 >/dev/null 2>&1 &'");
      await new Promise((r) => setTimeout(r, 200));
      const alive = () => execSync("ps -eo args").toString().split("\\n").filter((l) => /^sleep 30[01]/.test(l)).length;
      const before = alive();
      const killed = reapStrays();
      await new Promise((r) => setTimeout(r, 100));
      console.log(JSON.stringify({ before, killed, after: alive(), childSignal: child.signalCode }));
    `;
    const out = execFileSync("bwrap", ["--dev-bind", "/", "/", "--unshare-pid", "--proc", "/proc", "--die-with-parent", process.execPath, "--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
    const r = JSON.parse(out.trim().split("\n").at(-1)!);
    expect(r.before).toBe(2);
    expect(r.killed).toBeGreaterThanOrEqual(2);
    expect(r.after).toBe(0);
    expect(r.childSignal).toBe("SIGKILL");
  });
});
