import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes, randomInt } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, removeHome, requestVia, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";
import { environOf, hostUids, instancesOf, killPids, listeningPortsOf, listeningUnixSocketsOf, listProcs, portsOutsideNode, processesOf, procsWithArg, waitUntil } from "./helpers/host-procs.ts";
import { api, deploy, ferry, ndjson, stageApp, type Deployed } from "./helpers/stage.ts";
import { dynamo } from "../fixtures/security/lib/aws.mjs"; // the same client the attackers use

/**
 * The issue "Contain tenant code", end to end: one real embedded platform, a victim app with a
 * function, a static file, a kv and a blob store and a sensitive secret, and two hostile tenants
 * deployed next to it: a function that tries every way out of its box it can think of, and a
 * build command that does the same while the platform builds it. Each attack reports ok=true when
 * it worked; the suite asserts none did, and that the victim and the platform are unharmed.
 */

type Outcome = { ok: boolean; detail: string };
interface AttackResult {
  attacks: Record<string, Outcome>;
  identity: Record<string, unknown>;
  spawned: { how: string; arg?: string; result: string }[];
}

/** Every attack the function must report, so none can go missing silently. */
const RUNTIME_ATTACKS = [
  // 1. FERRY_HOME's secrets, the platform user's home, the platform's source
  "read_credentials_absolute", "read_credentials_walk_cwd", "read_credentials_walk_module", "read_platform_home", "read_platform_source", "own_env_leak",
  // 2. other processes' environment and command lines
  "proc_parent_environ", "proc_1_environ", "proc_platform_environ", "proc_victim_environ", "proc_scan_environ", "proc_scan_cmdline",
  // 3. other deployments' bundles and blobs
  "list_function_cache", "list_blob_store", "read_victim_bundle", "overwrite_victim_bundle", "overwrite_victim_static",
  // 4. the platform's metadata store
  "metadata_given_endpoints", "metadata_unix_sockets", "metadata_port_scan", "metadata_put_item",
  // 5. the victim's stores, with its own credentials, none, the emulators' and made-up ones
  ...["own_credentials", "unsigned", "emulator_credentials", "made_up_credentials"].flatMap((how) => [`kv_read_${how}`, `kv_write_${how}`, `blob_read_${how}`, `blob_write_${how}`]),
  // 6. signals
  "signal_platform", "signal_test_runner", "signal_victim", "signal_scan",
  // 8. other instances' sockets
  "connect_unix_sockets",
  // 9. writes outside its own /tmp
  "write_root", "write_usr", "write_bundle_dir", "write_own_bundle_file", "write_ferry_home",
];
const BUILD_ATTACKS = RUNTIME_ATTACKS.slice(0, RUNTIME_ATTACKS.indexOf("metadata_given_endpoints"));

const succeeded = (attacks: Record<string, Outcome>) => Object.entries(attacks).filter(([, o]) => o.ok);
const describeReport = (attacks: Record<string, Outcome>) =>
  Object.entries(attacks)
    .map(([name, o]) => `${o.ok ? "SUCCEEDED" : "failed   "}  ${name}: ${o.detail}`)
    .join("\n");

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

async function filesNamed(dir: string, name: string, depth = 5): Promise<string[]> {
  const out: string[] = [];
  if (depth < 0) return out;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const f = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesNamed(f, name, depth - 1)));
    else if (e.name === name) out.push(f);
  }
  return out;
}

/** Host paths of a deployment's Unix sockets: socket arguments of its processes, and sockets in folders they name. */
async function socketsOf(deploymentId: string): Promise<string[]> {
  const out = new Set<string>();
  for (const p of await listProcs()) {
    const env = await environOf(p.pid);
    const mine = env?.includes(`FERRY_DEPLOYMENT_ID=${deploymentId}`) || p.cmdline.some((a) => a.includes(deploymentId));
    if (!mine) continue;
    for (const arg of p.cmdline) {
      if (!arg.startsWith("/")) continue;
      const s = await stat(arg).catch(() => null);
      if (s?.isSocket()) out.add(arg);
      else if (s?.isDirectory() && !arg.includes("/cache/")) {
        for (const e of await readdir(arg, { withFileTypes: true }).catch(() => [])) if (e.isSocket()) out.add(join(arg, e.name));
      }
    }
  }
  return [...out];
}

describe("hostile tenants on one embedded platform", () => {
  let platform: RunningPlatform;
  let work = "";
  const nonce = String(randomInt(100_000, 1_000_000));
  const SECRET = `victim-secret-${randomBytes(16).toString("hex")}`;
  const KNOWN = `victim-data-${randomBytes(8).toString("hex")}`;
  let staticPage = "";
  let victim: Deployed;
  let victimHost = "";
  let attacker: Deployed | null = null;
  let attackerHost = "";
  let facts: Record<string, unknown> = {};
  const fingerprints = new Map<string, string>();
  let report: AttackResult | null = null;

  const env = () => ({ FERRY_HOME: platform.home });
  const readVictim = async () => {
    const r = await requestVia(platform.routerUrl, victimHost, "/api/read");
    if (r.status !== 200) throw new Error(`victim /api/read answered ${r.status}: ${r.text}`);
    return JSON.parse(r.text) as { item: string | null; items: number | null; object: string | null; objects: string[]; secretSha256: string | null };
  };

  beforeAll(async () => {
    platform = await startPlatformProcess();
    work = await mkdtemp(join(tmpdir(), "ferry-security-"));
    const victimDir = await stageApp("victim", work, "api/_lib");
    staticPage = await readFile(join(victimDir, "public/index.html"), "utf8");

    // the victim: a sensitive secret, then a production deployment with its stores
    const add = await ferry(platform, ["env", "add", "SECRET_TOKEN", "--sensitive", "--project", "victim"], SECRET);
    if (add.code !== 0) throw new Error(`ferry env add failed: ${add.stderr}`);
    ({ deployment: victim, host: victimHost } = await deploy(platform, victimDir, ["--prod"]));
    const seed = await requestVia(platform.routerUrl, victimHost, "/api/seed", { method: "POST", body: JSON.stringify({ value: KNOWN }), headers: { "content-type": "application/json" } });
    if (seed.status !== 201) throw new Error(`victim /api/seed answered ${seed.status}: ${seed.text}`);
    const before = await readVictim();
    if (before.item !== KNOWN || before.object !== KNOWN || before.secretSha256 !== sha256(SECRET)) throw new Error(`the victim does not see its own data: ${JSON.stringify(before)}`);
  }, 180_000);

  afterAll(async () => {
    // whatever a tenant left running carries the nonce in its command line: end exactly those
    const leftovers = await procsWithArg(`600.${nonce}`).catch(() => []);
    killPids(leftovers.map((p) => p.pid));
    await platform?.stop();
    for (const f of [join("/tmp", `ferry-escape-${nonce}`), join(tmpdir(), `ferry-escape-${nonce}`)]) await rm(f, { force: true });
    if (platform) await removeHome(platform.home);
    if (work) await rm(work, { recursive: true, force: true });
  }, 60_000);

  /** What the suite knows about the victim and the platform, as the host sees them, for the attackers. */
  async function gatherFacts() {
    const home = platform.home;
    await readVictim(); // both of its functions warm: their processes, environments and sockets exist
    await requestVia(platform.routerUrl, victimHost, "/api/seed", { method: "GET" }); // 405, but its instance starts
    const victimPids = (await instancesOf(victim.id)).map((p) => p.pid);

    const stores = (await api(platform, "/v1/stores?project=victim")).json as { stores: { name: string; type: string; environment: string; resource: string }[] };
    const store = (name: string) => stores.stores.find((s) => s.name === name && s.environment === "production")?.resource;
    const kvTable = store("data");
    const bucket = store("files");
    if (!kvTable || !bucket) throw new Error(`the victim's stores are not listed: ${JSON.stringify(stores)}`);

    const bundleFiles = [...(await filesNamed(join(home, "cache", "functions", victim.id), "index.mjs")), ...(await filesNamed(join(home, "blobs", "deployments", victim.id), "index.mjs"))];
    const staticFiles: string[] = [];
    const sha1 = createHash("sha1").update(staticPage).digest("hex");
    for (const account of await readdir(join(home, "blobs", "files")).catch(() => [] as string[])) {
      const f = join(home, "blobs", "files", account, sha1);
      if (existsSync(f)) staticFiles.push(f);
    }
    for (const f of [...bundleFiles, ...staticFiles]) fingerprints.set(f, sha256(await readFile(f)));

    // what the platform listens on (API, router, metadata, app data: TCP or Unix sockets) and the
    // victim's own endpoints
    const platformPorts = await listeningPortsOf(platform.proc.pid!);
    const platformSockets = await listeningUnixSocketsOf(platform.proc.pid!);
    const victimEnv = (await Promise.all(victimPids.map(environOf))).flat().filter((e): e is string => !!e);
    const fromVictim = (key: string) => [...new Set(victimEnv.filter((e) => e.startsWith(`${key}=`)).map((e) => e.slice(key.length + 1)))];
    const saved = JSON.parse(await readFile(join(home, "appdata", "ports.json"), "utf8").catch(() => "{}")) as { dynamodb?: number; s3?: number };

    facts = {
      nonce,
      ferryHome: home,
      repoRoot: ROOT,
      platformPid: platform.proc.pid,
      testPid: process.pid,
      hostHome: homedir(),
      hostHomeEntries: await readdir(homedir()).catch(() => []),
      secret: SECRET,
      metadataEndpoints: platformPorts.map((p) => `http://127.0.0.1:${p}`),
      metadataSockets: platformSockets,
      appDataEndpoints: {
        dynamodb: [...fromVictim("AWS_ENDPOINT_URL_DYNAMODB"), ...(saved.dynamodb ? [`http://127.0.0.1:${saved.dynamodb}`] : [])],
        s3: [...fromVictim("AWS_ENDPOINT_URL_S3"), ...(saved.s3 ? [`http://127.0.0.1:${saved.s3}`] : [])],
      },
      // the machine's own services (no node process of this project) are left out of port scans
      avoidPorts: await portsOutsideNode(),
      victim: {
        deploymentId: victim.id,
        host: victimHost,
        pids: victimPids,
        sockets: await socketsOf(victim.id),
        bundleFiles,
        staticFiles,
        kv: { table: kvTable, key: { pk: "victim", sk: "known" }, value: KNOWN },
        blob: { bucket, key: "known.txt", value: KNOWN },
      },
    };
    // the host's own look: which of those is this platform's metadata store (so an attacker that
    // fails to reach it was at least told where it is)
    const metadataAt: string[] = [];
    for (const endpoint of [...platformPorts.map((p) => `http://127.0.0.1:${p}`), ...platformSockets.map((f) => `unix:${f}`)]) {
      const r = await dynamo(endpoint, "ListTables", {}, { credentials: { accessKeyId: "host", secretAccessKey: "host" }, timeoutMs: 1000 }).catch(() => null);
      if ((r?.json as { TableNames?: string[] } | null)?.TableNames?.includes("ferry")) metadataAt.push(endpoint);
    }
    if (metadataAt.length) console.info(`[hostile-tenant] the host finds this platform's metadata store at ${metadataAt.join(", ")}`);
    else console.warn("[hostile-tenant] the host found no DynamoDB API with a \"ferry\" table among the platform's listeners; the metadata attacks only scan");
    console.info(`[hostile-tenant] facts handed to the attackers:\n${JSON.stringify({ ...facts, secret: "<the victim's secret>", hostHomeEntries: "<names>" }, null, 2)}`);
    return facts;
  }

  it("runs every attack from a function, and none succeeds", async () => {
    const attackerDir = await stageApp("attacker", work, "api/_lib");
    ({ deployment: attacker, host: attackerHost } = await deploy(platform, attackerDir));
    await gatherFacts();
    const r = await requestVia(platform.routerUrl, attackerHost, "/api/attack", { method: "POST", body: JSON.stringify(facts), headers: { "content-type": "application/json" } });
    expect(r.status, `the attack function answered ${r.status}: ${r.text}`).toBe(200);
    report = JSON.parse(r.text) as AttackResult;
    console.info(`[hostile-tenant] runtime attack report:\n${describeReport(report.attacks)}\nidentity: ${JSON.stringify(report.identity)}\nspawned: ${JSON.stringify(report.spawned)}`);

    expect(Object.keys(report.attacks).sort()).toEqual(expect.arrayContaining(RUNTIME_ATTACKS));
    const won = succeeded(report.attacks);
    expect(won.map(([name]) => name), `attacks that succeeded:\n${describeReport(Object.fromEntries(won))}`).toEqual([]);
  }, 150_000);

  it("runs the attacker as a user other than root on the host", async (ctx) => {
    expect(attacker, "the attacker was not deployed").toBeTruthy();
    // the instance that ran the attacks is still up: instances idle for minutes before they stop
    const instances = await instancesOf(attacker!.id);
    if (!instances.length) {
      console.warn("[hostile-tenant] no process of the attacker found in the host's /proc: cannot check its host identity");
      ctx.skip();
    }
    for (const p of instances) {
      const uids = await hostUids(p.pid);
      expect(uids, `pid ${p.pid}`).not.toBeNull();
      expect(uids!.filter((u) => u === 0), `host uids of the attacker's pid ${p.pid} (real, effective, saved, fs): ${uids!.join(" ")}`).toEqual([]);
    }
  });

  it("gives the attacker a /tmp of its own, not the host's", () => {
    expect(report, "the runtime attacks did not run").toBeTruthy();
    const marker = report!.spawned.find((s) => s.how === "tmp_marker");
    expect(marker, "the attacker did not try to write its marker").toBeTruthy();
    for (const dir of new Set(["/tmp", tmpdir()])) expect(existsSync(join(dir, `ferry-escape-${nonce}`)), `the attacker's marker is in the host's ${dir}`).toBe(false);
  });

  it("runs the build-time attacks, none succeeds, and the build still succeeds", async () => {
    const dir = await stageApp("build-attacker", work, "lib");
    if (!facts.nonce) await gatherFacts();
    await readVictim();
    const encoded = Buffer.from(JSON.stringify(facts)).toString("base64url");
    const { deployment, host } = await deploy(platform, dir, ["--build-env", `ATTACK_PARAMS=${encoded}`]);
    expect(deployment.state).toBe("READY");
    const page = await requestVia(platform.routerUrl, host, "/");
    expect(page.status).toBe(200);
    expect(page.text).toContain("built while attacking");

    const events = await api(platform, `/v1/deployments/${deployment.id}/events`);
    const lines = ndjson<{ type: string; text?: string }>(events.text).filter((e) => e.type === "log").map((e) => e.text ?? "");
    const line = lines.find((l) => l.startsWith("ATTACK_REPORT "));
    expect(line, `no ATTACK_REPORT line in the build log:\n${lines.join("\n")}`).toBeTruthy();
    const built = JSON.parse(line!.slice("ATTACK_REPORT ".length)) as AttackResult & { error?: string };
    expect(built.error, built.error).toBeUndefined();
    console.info(`[hostile-tenant] build-time attack report:\n${describeReport(built.attacks)}\nidentity: ${JSON.stringify(built.identity)}`);
    expect(Object.keys(built.attacks)).toEqual(expect.arrayContaining(BUILD_ATTACKS));
    const won = succeeded(built.attacks);
    expect(won.map(([name]) => name), `build-time attacks that succeeded:\n${describeReport(Object.fromEntries(won))}`).toEqual([]);
  }, 180_000);

  it("leaves the victim serving its function and static file, and its data and files intact", async () => {
    const page = await requestVia(platform.routerUrl, victimHost, "/");
    expect(page.status).toBe(200);
    expect(page.text).toBe(staticPage);
    const now = await readVictim();
    expect(now).toEqual({ item: KNOWN, items: 1, object: KNOWN, objects: ["known.txt"], secretSha256: sha256(SECRET) });
    for (const [file, sum] of fingerprints) {
      expect(existsSync(file), `${file} is gone`).toBe(true);
      expect(sha256(await readFile(file)), `${file} changed`).toBe(sum);
    }
  });

  it("keeps the platform up, and the admin token working", async () => {
    const health = await fetch(`${platform.apiUrl}/v1/health`, { signal: AbortSignal.timeout(10_000) });
    expect(health.status).toBe(200);
    expect(platform.proc.exitCode).toBeNull();
    const list = await api(platform, "/v1/deployments");
    expect(list.status, list.text).toBe(200);
    const who = await ferry(platform, ["whoami", "--json"]);
    expect(who.code, who.stderr).toBe(0);
    // the admin token on disk is still the one the platform started with
    const creds = JSON.parse(await readFile(join(platform.home, "credentials.json"), "utf8")) as { token: string };
    expect(creds.token).toBe(platform.token);
  });

  it("leaves no process of the attacker behind once it is removed", async () => {
    expect(attacker, "the attacker was not deployed").toBeTruthy();
    const spawned = (report?.spawned ?? []).filter((s) => s.how !== "tmp_marker");
    const seen = await procsWithArg(`600.${nonce}`);
    console.info(`[hostile-tenant] before removal: ${seen.length} detached processes of the attacker visible on the host; it reported ${JSON.stringify(spawned)}`);

    const rm = await ferry(platform, ["rm", attacker!.id]);
    expect(rm.code, rm.stderr).toBe(0);
    let left: { pid: number; cmdline: string[] }[] = [];
    const gone = await waitUntil(async () => {
      left = [...(await procsWithArg(`600.${nonce}`)), ...(await processesOf(attacker!.id))];
      return left.length === 0;
    }, 20_000);
    expect(gone, `still running after ferry rm:\n${left.map((p) => `${p.pid} ${p.cmdline.join(" ")}`).join("\n")}`).toBe(true);
  }, 60_000);
});
