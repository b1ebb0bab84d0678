import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

type Proc = { pid: number; args: string };

/** The host's live processes (zombies left out), as children by parent pid. */
function processTree(): Map<number, Proc[]> {
  const out = execFileSync("ps", ["-e", "-o", "pid=,ppid=,stat=,args="]).toString();
  const kids = new Map<number, Proc[]>();
  for (const line of out.trim().split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m || m[3]!.startsWith("Z")) continue;
    const ppid = Number(m[2]);
    kids.set(ppid, [...(kids.get(ppid) ?? []), { pid: Number(m[1]), args: m[4]! }]);
  }
  return kids;
}

/** tsx's and the builder's esbuild service: a helper of the platform's own, not tenant code. */
const isHelper = (p: Proc) => /esbuild --service/.test(p.args);

/** A function instance's program, sandboxed (`/opt/ferry/bootstrap.mjs`) or not
 * (`runtime/local/bootstrap.mjs`); server apps run through `server-preload.mjs`. */
const FUNCTION_PROGRAM = /\/(bootstrap|server-preload)\.mjs(\s|$)/;

function subtree(kids: Map<number, Proc[]>, root: Proc): Proc[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(kids.get(out[i]!.pid) ?? []));
  return out;
}

/** What the platform process `pid` started and is still running, its helpers left out: each
 * child with everything below it. */
function started(pid: number): Proc[][] {
  const kids = processTree();
  return (kids.get(pid) ?? []).filter((c) => !isHelper(c)).map((c) => subtree(kids, c));
}

/**
 * Function instances of the platform process `pid`, each as the pids of all its processes (its
 * first one first). Unsandboxed an instance is node itself (the wrapper shell exec'd into it).
 * Sandboxed the host sees three: `bwrap` (the wrapper shell exec'd into it), bwrap's init in the
 * new pid namespace, and node (exec'd through setpriv). Neither command line needs to name a host
 * path (bwrap reads its options from a pipe; node sees its bundle as /var/task), so an instance
 * is found by its program, Ferry's bootstrap, anywhere below a child of the platform.
 */
export function instances(pid: number): number[][] {
  return started(pid)
    .filter((tree) => tree.some((p) => FUNCTION_PROGRAM.test(p.args)))
    .map((tree) => tree.map((p) => p.pid));
}

/** Every process of every function instance of `pid` (for CPU accounting). */
export const descendants = (pid: number): number[] => instances(pid).flat();

/** Function instances of `pid` (not processes: a sandboxed instance is three of those). */
export const childCount = (pid: number) => instances(pid).length;

/** Everything `pid` started that still runs, helpers left out, as `pid args` lines: instances
 * (also ones still starting or ending, before or after their program runs) and builds. */
export const startedProcesses = (pid: number): string[] => started(pid).flat().map((p) => `${p.pid} ${p.args.slice(0, 160)}`);

export const rssMb = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** CPU time (user + system) a process has used so far, in ms; 0 once it is gone. */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    // utime and stime, in clock ticks (100 per second on Linux)
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}
