// What one build on the build worker Lambda leaves to the next. Lambda reuses a warm sandbox for
// the next invocation, whichever account it is for: processes a build left running thaw with it,
// and /tmp keeps what it wrote. A hostile build could spy on the next one (its sources, its
// credentials) or poison the dependency cache another account's build would install from. So the
// worker stops every process but its own line of ancestors before and after each build, and
// keeps /tmp (cache included) only for the next build of the same account.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/** A process's state letter and parent, from /proc/<pid>/stat (its name may hold spaces and parentheses). */
function statOf(pid: number): { state: string; parent: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const [state, parent] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: state!, parent: Number(parent) };
  } catch {
    return null;
  }
}

/** This process and its ancestors: the runtime that runs us, up to the sandbox's init. */
function lineOf(pid: number): Set<number> {
  const keep = new Set<number>();
  for (let p: number | undefined = pid; p && !keep.has(p); p = statOf(p)?.parent) keep.add(p);
  return keep;
}

/**
 * Kills every process this one can see but itself and its ancestors, until none is left (a
 * process may fork while it is being killed). Only for a sandbox the worker has to itself, as on
 * Lambda: on a shared machine it would kill everything it has the right to. Returns how many went.
 */
export function reapStrays(opts: { self?: number; rounds?: number } = {}): number {
  const self = opts.self ?? process.pid;
  const keep = lineOf(self);
  let killed = 0;
  for (let round = 0; round < (opts.rounds ?? 20); round++) {
    let found = 0;
    for (const name of readdirSync("/proc")) {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid <= 0 || keep.has(pid)) continue;
      // a zombie is dead already: only its parent's wait() removes it
      const state = statOf(pid)?.state;
      if (!state || state === "Z" || state === "X") continue;
      try {
        process.kill(pid, "SIGKILL");
        found++;
      } catch {
        // gone already, or not ours to signal
      }
    }
    if (!found) break;
    killed += found;
  }
  return killed;
}

/** Removes a tree a build may have made unreadable (chmod 000 folders) to keep it. */
async function removeAll(path: string) {
  try {
    await rm(path, { recursive: true, force: true });
  } catch {
    execFileSync("chmod", ["-R", "u+rwx", path], { stdio: "ignore" });
    await rm(path, { recursive: true, force: true });
  }
}

/**
 * The worker's scratch folder. Whose it is lives in the worker's memory, not in the folder: a
 * build can write anything there, a claim of another account's name included.
 */
export function createScratch(base: string) {
  let owner: string | null = null;
  return {
    base,
    /** Makes `base` this account's: when the last build here was any other's (or none this process ran), everything in it goes, dependency cache too. Returns whether it was cleared. */
    async claim(accountId: string): Promise<boolean> {
      await mkdir(base, { recursive: true });
      if (owner === accountId) return false;
      const entries = await readdir(base);
      await Promise.all(entries.map((e) => removeAll(join(base, e))));
      owner = accountId;
      return entries.length > 0;
    },
  };
}
