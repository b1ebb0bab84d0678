import { readFileSync, unlinkSync } from "node:fs";
import { link, mkdir, open, readFile, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { homePaths } from "./home.ts";

/** Another platform owns this FERRY_HOME. */
export class AlreadyRunningError extends Error {
  constructor(
    readonly home: string,
    readonly pid: number,
  ) {
    super(`Ferry is already running for ${home} (pid ${pid}); stop it first (kill ${pid}, or Ctrl-C in its terminal)`);
  }
}

export interface HomeLock {
  path: string;
  release(): Promise<void>;
  /** best effort, for `process.on("exit")`, where nothing async runs */
  releaseSync(): void;
}

/**
 * Whether `pid` is a live process that could be a platform. A pid is reused once its process is
 * gone, so on Linux a live pid also has to be running node to count.
 */
export async function isLivePlatformPid(pid: unknown): Promise<boolean> {
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => null);
  return cmdline === null || /node/i.test(cmdline);
}

const readPid = async (path: string): Promise<number | null> => {
  const text = await readFile(path, "utf8").catch(() => null);
  if (text === null) return null;
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) ? pid : NaN;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Makes this process the only platform of `home`: `<home>/server.lock` holds the owner's pid. It is
 * created whole in one step (a temp file hard-linked into place, which fails if the lock exists),
 * so a reader never sees an empty lock. A lock whose pid is gone is stale and is broken; breakers
 * take turns through `server.lock.break` and look again once it is theirs, so two starts racing
 * over a stale lock cannot both win. A running platform from before the lock existed is caught by
 * the pid in `server.json`.
 */
export async function acquireHomeLock(home: string): Promise<HomeLock> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  const path = join(home, "server.lock");
  const breaker = `${path}.break`;

  const server = await readFile(homePaths(home).serverJson, "utf8").then((t) => JSON.parse(t) as { pid?: unknown }, () => null);
  if (await isLivePlatformPid(server?.pid)) throw new AlreadyRunningError(home, server!.pid as number);

  const tmp = `${path}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  const fh = await open(tmp, "wx", 0o600);
  await fh.writeFile(`${process.pid}\n`);
  await fh.close();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const owner = await readPid(path);
      if (owner !== null && (await isLivePlatformPid(owner))) throw new AlreadyRunningError(home, owner);
      if (attempt > 50) throw new Error(`could not take ${path}; remove it if no Ferry is running for ${home}`);
      // stale (or just removed): break it, one breaker at a time
      try {
        await (await open(breaker, "wx", 0o600)).close();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        // a breaker that died mid-way leaves its file behind; it is never held for long
        const age = await stat(breaker).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > 5_000) await rm(breaker, { force: true });
        await sleep(20 + Math.random() * 30);
        continue;
      }
      try {
        const again = await readPid(path);
        if (again !== null && !(await isLivePlatformPid(again))) await rm(path, { force: true });
      } finally {
        await rm(breaker, { force: true });
      }
    }
  } finally {
    await rm(tmp, { force: true });
  }

  let released = false;
  const mine = async () => (await readPid(path)) === process.pid;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      if (await mine()) await unlink(path).catch(() => {});
    },
    releaseSync() {
      if (released) return;
      released = true;
      try {
        if (Number.parseInt(readFileSync(path, "utf8"), 10) === process.pid) unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}
