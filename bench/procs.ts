import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Processes below `pid` whose command line mentions `marker` (function instances run bundles
 * from the platform's cache folder; tsx's own esbuild helper does not count). */
export function childCount(pid: number, marker = "cache/functions"): number {
  const out = execFileSync("ps", ["-e", "-o", "pid=,ppid=,args="]).toString();
  const kids = new Map<number, { pid: number; args: string }[]>();
  for (const line of out.trim().split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const ppid = Number(m[2]);
    kids.set(ppid, [...(kids.get(ppid) ?? []), { pid: Number(m[1]), args: m[3]! }]);
  }
  let n = 0;
  const walk = (p: number) => {
    for (const c of kids.get(p) ?? []) {
      if (c.args.includes(marker)) n++;
      walk(c.pid);
    }
  };
  walk(pid);
  return n;
}

export const rssMb = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
};
