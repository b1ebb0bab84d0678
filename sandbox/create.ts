import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { FerryError } from "../core/errors.ts";
import { bwrapArgs, commandArgs, hostPath, systemArgs, type BwrapHost } from "./bwrap.ts";
import { openCgroups, type Cgroup } from "./cgroups.ts";
import type { Sandbox, SandboxedProcess, SandboxSpec, SandboxStatus } from "./port.ts";

export interface SandboxOptions {
  /** run tenant code without a sandbox when none can be made (the operator's explicit choice) */
  allowUnsandboxed?: boolean;
  /** run unsandboxed even where a sandbox could be made: the operator's explicit choice
   * (FERRY_UNSANDBOXED=1, e.g. to measure what the sandbox costs) */
  disable?: boolean;
  /** the host identity of sandboxed code when the platform runs as root; default nobody (65534) */
  uid?: number;
  gid?: number;
  /** cgroup folder name prefix (tests use their own) */
  cgroupPrefix?: string;
}

/** The variable an operator sets to run tenant code unsandboxed on a host that cannot sandbox. */
export const UNSANDBOXED_VAR = "FERRY_UNSANDBOXED";

// Joins the cgroups named before `--`, sets the open-files limit, then becomes the sandbox: all
// before any tenant code exists, so nothing it starts escapes the limits.
const JOIN = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; [ -z "$1" ] || ulimit -n "$1" || exit 125; shift; exec "$@"';

/**
 * Makes the sandbox tenant code runs in: bubblewrap namespaces (mount, pid, ipc, uts; a user
 * namespace, or as root an unprivileged uid) plus cgroup limits. Throws `sandbox_unavailable`
 * when the host cannot sandbox and the operator did not opt out.
 */
export function createSandbox(opts: SandboxOptions = {}): Sandbox {
  const warnings: string[] = [];
  const host = opts.disable ? null : probeBwrap(opts, warnings);
  if (!host && !opts.allowUnsandboxed && !opts.disable) {
    throw new FerryError(
      "sandbox_unavailable",
      `cannot sandbox tenant code on this host: ${warnings.join("; ")}. Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) on a Linux host with user namespaces, or set ${UNSANDBOXED_VAR}=1 to run deployed code with the platform's own rights (only for code you trust).`,
      500,
    );
  }
  if (!host) warnings.unshift("tenant code runs UNSANDBOXED: deployed functions and builds can read this platform's credentials and every app's data");
  const cgroups = openCgroups(opts.cgroupPrefix);
  if (!cgroups) warnings.push("no writable cgroups: memory limits cover only the V8 heap, and processes per instance are not capped");
  else {
    if (!cgroups.memory) warnings.push("no memory cgroup controller: memory limits cover only the V8 heap");
    if (!cgroups.pids) warnings.push("no pids cgroup controller: processes per instance are not capped");
  }

  const status: SandboxStatus = {
    mode: host ? "bwrap" : "none",
    identity: !host ? "the platform's own user" : host.drop ? `uid ${host.drop.uid} (unprivileged), no capabilities` : "a user namespace, no capabilities on the host",
    cgroup: cgroups?.version ?? null,
    limits: { memory: !!cgroups?.memory, pids: !!cgroups?.pids, openFiles: true, cpuShares: !!cgroups?.cpu },
    warnings,
  };
  let seq = 0;

  return {
    status,
    owner: host?.drop ? { uid: host.drop.uid, gid: host.drop.gid } : null,
    spawn(spec: SandboxSpec): SandboxedProcess {
      const name = `${spec.name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 80)}-${++seq}`;
      let cg: Cgroup | null = null;
      try {
        const group = spec.group?.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 80);
        cg = cgroups && (spec.limits.memoryMb || spec.limits.pids || (group && cgroups.cpu)) ? cgroups.create(name, spec.limits, group) : null;
      } catch (e) {
        throw new FerryError("sandbox_failed", `could not set up limits for a sandbox: ${(e as Error).message}`, 503);
      }
      // bwrap reads its options from a pipe: on its command line they would show the host's
      // paths to the sandbox, where bwrap is pid 1; only the program (inside paths) stays there
      const stdio = typeof spec.stdio === "string" ? [spec.stdio, spec.stdio, spec.stdio] : [...spec.stdio];
      const argsFd = stdio.length;
      if (host) stdio.push("pipe");
      const program = host ? [host.bwrap, "--args", String(argsFd), ...commandArgs(host, spec)] : [hostPath(spec.command, spec.mounts), ...spec.args.map((a) => hostPath(a, spec.mounts))];
      const env = host ? spec.env : Object.fromEntries(Object.entries(spec.env).map(([k, v]) => [k, v.startsWith("/") ? hostPath(v, spec.mounts) : v]));
      const proc = spawn("/bin/sh", ["-c", JOIN, "sh", ...(cg?.procsFiles ?? []), "--", String(spec.limits.openFiles ?? ""), ...program], {
        cwd: host ? "/" : hostPath(spec.cwd, spec.mounts),
        env,
        stdio,
        serialization: spec.serialization,
        // unsandboxed, a process group is the only way to reach what the program starts
        detached: !host,
      });
      if (host) {
        const args = proc.stdio[argsFd] as NodeJS.WritableStream;
        // a sandbox killed before bwrap read its options resets the pipe; its exit tells the rest
        args.on("error", () => {});
        args.end(bwrapArgs(host, spec).join("\0") + "\0");
      }
      let ended = false;
      proc.once("exit", () => (ended = true));
      return {
        proc,
        kill() {
          if (!ended && proc.pid) {
            try {
              // unsandboxed: the group; sandboxed: bwrap, whose pid namespace dies with it
              process.kill(host ? proc.pid : -proc.pid, "SIGKILL");
            } catch {
              proc.kill("SIGKILL");
            }
          }
          cg?.killAll();
        },
        limitHit: () => cg?.limitHit() ?? null,
        dispose() {
          cg?.killAll();
          cg?.remove();
        },
      };
    },
    close: () => cgroups?.close(),
  };
}

/** Can this host run bwrap sandboxes? Null (with the reason in `warnings`) when not. */
function probeBwrap(opts: SandboxOptions, warnings: string[]): BwrapHost | null {
  if (process.platform !== "linux") {
    warnings.push(`sandboxes need Linux namespaces; this host is ${process.platform}`);
    return null;
  }
  const bwrap = which("bwrap");
  if (!bwrap) {
    warnings.push("bubblewrap (bwrap) is not installed");
    return null;
  }
  let drop: BwrapHost["drop"] = null;
  if (process.getuid?.() === 0) {
    const setpriv = ["/usr/bin/setpriv", "/usr/sbin/setpriv"].find(executable);
    if (!setpriv) {
      warnings.push("the platform runs as root and setpriv (util-linux) is missing, so sandboxed code could not drop root");
      return null;
    }
    drop = { uid: opts.uid ?? 65534, gid: opts.gid ?? 65534, setpriv };
  }
  const host: BwrapHost = { bwrap, drop, system: systemArgs(process.execPath) };
  // one real sandbox, so a host that forbids namespaces is found now rather than on a visit
  const probe = { name: "probe", command: process.execPath, args: ["-e", "process.getuid() === 0 && process.exit(3)"], cwd: "/", env: {}, mounts: [], limits: { tmpMb: 1 }, stdio: "pipe" as const };
  const args = [...bwrapArgs(host, probe), ...commandArgs(host, probe)];
  const r = spawnSync(bwrap, args, { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) {
    const why = r.status === 3 ? "sandboxed code still ran as root" : (r.stderr || r.error?.message || `exit ${r.status}`).trim().split("\n")[0];
    warnings.push(`bubblewrap cannot create a sandbox here (${why}); user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone / user.max_user_namespaces)`);
    return null;
  }
  return host;
}

function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return null;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
