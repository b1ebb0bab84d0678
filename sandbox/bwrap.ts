import { existsSync, lstatSync, readlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Mount, SandboxSpec } from "./port.ts";

/** The system's runtime files a sandbox sees (read-only): binaries, libraries, name resolution,
 * CA certificates, time zones. Nothing that holds secrets of the host: no /root, /home, /var, /run,
 * no npm or git configuration. */
const ETC = [
  "resolv.conf",
  "hosts",
  "host.conf",
  "nsswitch.conf",
  "gai.conf",
  "services",
  "protocols",
  "networks",
  "passwd",
  "group",
  "ssl",
  "ca-certificates",
  "ca-certificates.conf",
  "pki",
  "alternatives",
  "localtime",
  "timezone",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "mime.types",
];
const TOP = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"];

export interface BwrapHost {
  bwrap: string;
  /** the platform runs as root: drop to this uid/gid inside with setpriv (no user namespace, so
   * the tenant is an ordinary unprivileged user as the host sees it) */
  drop: { uid: number; gid: number; setpriv: string } | null;
  /** arguments that build the system part of the file tree, computed once */
  system: string[];
}

/** The part of the tree every sandbox shares, as bwrap arguments. */
export function systemArgs(execPath: string): string[] {
  const args = ["--ro-bind", "/usr", "/usr"];
  for (const name of TOP) {
    const p = `/${name}`;
    const kind = kindOf(p);
    if (kind === "link") args.push("--symlink", readlinkSync(p), p);
    else if (kind === "dir") args.push("--ro-bind", p, p);
  }
  args.push("--perms", "0755", "--dir", "/etc");
  for (const name of ETC) if (existsSync(join("/etc", name))) args.push("--ro-bind", join("/etc", name), join("/etc", name));
  // a node installed outside /usr (e.g. /opt/node): its own install folder, nothing around it
  if (!execPath.startsWith("/usr/")) {
    const prefix = dirname(dirname(execPath));
    args.push("--ro-bind", prefix, prefix);
  }
  args.push("--dev", "/dev", "--proc", "/proc", "--perms", "0755", "--dir", "/var", "--perms", "0755", "--dir", "/run");
  return args;
}

function kindOf(p: string): "link" | "dir" | null {
  try {
    const st = lstatSync(p);
    return st.isSymbolicLink() ? "link" : st.isDirectory() ? "dir" : null;
  } catch {
    return null;
  }
}

/** bwrap's options for one sandbox: namespaces, then the file tree. */
export function bwrapArgs(host: BwrapHost, spec: SandboxSpec): string[] {
  const args = [
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--hostname",
    "ferry",
    // the sandbox dies with the platform, and has no controlling terminal to push input into
    "--die-with-parent",
    "--new-session",
  ];
  if (host.drop) args.push("--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID");
  else args.push("--unshare-user", "--disable-userns");
  args.push(...host.system);
  args.push("--perms", "1777", "--size", String((spec.limits.tmpMb ?? 512) * 1024 * 1024), "--tmpfs", "/tmp");
  // folders bwrap would make on its own for a mount point are private to root: make them open
  for (const dir of parentsOf(spec.mounts)) args.push("--perms", "0755", "--dir", dir);
  for (const m of mountOrder(spec.mounts)) args.push(m.writable ? "--bind" : "--ro-bind", m.source, m.target);
  args.push("--chdir", spec.cwd);
  return args;
}

/** What bwrap runs: the program, through setpriv when the platform is root. Only inside paths. */
export function commandArgs(host: BwrapHost, spec: SandboxSpec): string[] {
  const drop = host.drop ? [host.drop.setpriv, `--reuid=${host.drop.uid}`, `--regid=${host.drop.gid}`, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"] : [];
  return ["--", ...drop, spec.command, ...spec.args];
}

const MADE = new Set(["/", "/usr", "/etc", "/var", "/run", "/tmp", "/dev", "/proc"]);

function parentsOf(mounts: Mount[]): string[] {
  const out = new Set<string>();
  for (const m of mounts) {
    for (let d = dirname(m.target); !MADE.has(d); d = dirname(d)) out.add(d);
  }
  return [...out].sort((a, b) => a.split("/").length - b.split("/").length);
}

/** Parents before children, so a file bound inside a bound folder is not hidden by it. */
const mountOrder = (mounts: Mount[]) => [...mounts].sort((a, b) => a.target.split("/").length - b.target.split("/").length);

/** For unsandboxed runs: the host path behind a path as the sandbox would see it. */
export function hostPath(path: string, mounts: Mount[]): string {
  let best: Mount | null = null;
  for (const m of mounts) {
    if ((path === m.target || path.startsWith(m.target + "/")) && (!best || m.target.length > best.target.length)) best = m;
  }
  return best ? best.source + path.slice(best.target.length) : path;
}
