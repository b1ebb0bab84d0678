import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * Instances run in their own process group, so stopping one also stops whatever it started.
 * Node can only make a group by starting a new session (`detached`), and on Linux a new session
 * is a new scheduler autogroup: the instance then competes with whole sessions for CPU, which
 * under load roughly halved its throughput in our measurements. So when perl is at hand (it is
 * on Linux and macOS hosts), the child calls setpgid and execs node, staying in our session;
 * otherwise it falls back to a detached session.
 */
const PERL = findExecutable("perl");
const SETPGRP = 'setpgrp(0, 0); exec { $ARGV[0] } @ARGV or die "cannot start $ARGV[0]: $!\\n"';

export function spawnGroupLeader(args: string[], opts: SpawnOptions): ChildProcess {
  if (PERL) return spawn(PERL, ["-e", SETPGRP, process.execPath, ...args], { ...opts, detached: false });
  return spawn(process.execPath, args, { ...opts, detached: true });
}

/** Stops a process group (falling back to the process when the group is not formed yet). */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
}

function findExecutable(name: string): string | null {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return null;
}
