import { readdir, readFile, readlink } from "node:fs/promises";

/** What the host sees of a process, from /proc. */
export interface HostProc {
  pid: number;
  ppid: number;
  comm: string;
  /** R, S, Z, ... */
  state: string;
  cmdline: string[];
}

const numeric = (n: string) => /^\d+$/.test(n);

async function readProc(pid: number): Promise<HostProc | null> {
  try {
    const [stat, cmdline] = await Promise.all([readFile(`/proc/${pid}/stat`, "utf8"), readFile(`/proc/${pid}/cmdline`)]);
    const close = stat.lastIndexOf(")");
    const rest = stat.slice(close + 2).split(" ");
    return {
      pid,
      ppid: Number(rest[1]),
      comm: stat.slice(stat.indexOf("(") + 1, close),
      state: rest[0]!,
      cmdline: cmdline.toString("utf8").split("\0").filter(Boolean),
    };
  } catch {
    return null; // gone meanwhile
  }
}

/** Every live (non-zombie) process on the host. */
export async function listProcs(): Promise<HostProc[]> {
  const pids = (await readdir("/proc")).filter(numeric).map(Number);
  const procs = await Promise.all(pids.map(readProc));
  return procs.filter((p): p is HostProc => !!p && p.state !== "Z" && p.state !== "X");
}

export async function environOf(pid: number): Promise<string[] | null> {
  try {
    return (await readFile(`/proc/${pid}/environ`)).toString("utf8").split("\0").filter(Boolean);
  } catch {
    return null;
  }
}

/** Live processes whose command line contains `fragment` in one of its arguments. */
export async function procsWithArg(fragment: string): Promise<HostProc[]> {
  return (await listProcs()).filter((p) => p.cmdline.some((a) => a.includes(fragment)));
}

/** Live processes whose environment holds exactly `KEY=VALUE`, optionally only those named `comm`. */
export async function procsWithEnv(entry: string, comm?: string): Promise<HostProc[]> {
  const out: HostProc[] = [];
  for (const p of await listProcs()) {
    if (comm && p.comm !== comm) continue;
    const env = await environOf(p.pid);
    if (env?.includes(entry)) out.push(p);
  }
  return out;
}

/** The instances of a deployment as the host sees them: `node` processes with its id in their environment. */
export const instancesOf = (deploymentId: string) => procsWithEnv(`FERRY_DEPLOYMENT_ID=${deploymentId}`, "node");

/** Every process of a deployment, whatever it is: its environment names the deployment. */
export const processesOf = (deploymentId: string) => procsWithEnv(`FERRY_DEPLOYMENT_ID=${deploymentId}`);

/** The Uid line of /proc/<pid>/status: real, effective, saved, filesystem uid as the host sees them. */
export async function hostUids(pid: number): Promise<number[] | null> {
  try {
    const line = (await readFile(`/proc/${pid}/status`, "utf8")).split("\n").find((l) => l.startsWith("Uid:"));
    return line ? line.slice(4).trim().split(/\s+/).map(Number) : null;
  } catch {
    return null;
  }
}

/** Resident memory of a process in kB (VmRSS), or null when it is gone. */
export async function rssKb(pid: number): Promise<number | null> {
  try {
    const line = (await readFile(`/proc/${pid}/status`, "utf8")).split("\n").find((l) => l.startsWith("VmRSS:"));
    return line ? Number(line.replace(/\D+/g, "")) : null;
  } catch {
    return null;
  }
}

/** SIGKILLs the given processes, each by its pid. */
export function killPids(pids: number[]) {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
}

interface Listener {
  port: number;
  inode: string;
}

async function listeners(): Promise<Listener[]> {
  const out: Listener[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(file, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== "0A") continue;
      out.push({ port: parseInt(cols[1]!.split(":")[1]!, 16), inode: cols[9]! });
    }
  }
  return out;
}

async function socketInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  await Promise.all(
    fds.map(async (fd) => {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m) inodes.add(m[1]!);
    }),
  );
  return inodes;
}

/** TCP ports a process listens on. */
export async function listeningPortsOf(pid: number): Promise<number[]> {
  const mine = await socketInodes(pid);
  return [...new Set((await listeners()).filter((l) => mine.has(l.inode)).map((l) => l.port))].sort((a, b) => a - b);
}

/** Paths of the Unix sockets a process listens on (from /proc/net/unix: flag __SO_ACCEPTCON). */
export async function listeningUnixSocketsOf(pid: number): Promise<string[]> {
  const mine = await socketInodes(pid);
  const text = await readFile("/proc/net/unix", "utf8").catch(() => "");
  const out = new Set<string>();
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    const [flags, inode, path] = [cols[3], cols[6], cols[7]];
    if (!path || path.startsWith("@") || !inode || !mine.has(inode)) continue;
    if (parseInt(flags ?? "0", 16) & 0x10000) out.add(path);
  }
  return [...out].sort();
}

/**
 * Listening ports that belong to no `node` process (or to no process this host can see): the
 * machine's own services, which a tenant's port scan in this suite leaves alone.
 */
export async function portsOutsideNode(): Promise<number[]> {
  const all = await listeners();
  const owner = new Map<string, string>();
  for (const p of await listProcs()) {
    for (const inode of await socketInodes(p.pid)) owner.set(inode, p.comm);
  }
  return [...new Set(all.filter((l) => owner.get(l.inode) !== "node").map((l) => l.port))].sort((a, b) => a - b);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last result. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}
