import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Processes below `pid` whose command line mentions `marker` (function instances run bundles
 * from the platform's cache folder; tsx's own esbuild helper does not count). */
export function descendants(pid: number, marker = "cache/functions"): number[] {
  const out = execFileSync("ps", ["-e", "-o", "pid=,ppid=,args="]).toString();
  const kids = new Map<number, { pid: number; args: string }[]>();
  for (const line of out.trim().split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const ppid = Number(m[2]);
    kids.set(ppid, [...(kids.get(ppid) ?? []), { pid: Number(m[1]), args: m[3]! }]);
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const c of kids.get(p) ?? []) {
      if (c.args.includes(marker)) found.push(c.pid);
      walk(c.pid);
    }
  };
  walk(pid);
  return found;
}

export const childCount = (pid: number, marker?: string) => descendants(pid, marker).length;

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
