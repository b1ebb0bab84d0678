import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LimitHit, SandboxLimits } from "./port.ts";

/**
 * Memory and process limits through cgroups, v1 (one hierarchy per controller) or v2 (unified).
 * Each platform makes `ferry-<pid>` in each hierarchy and one child per sandbox under it; a
 * sandbox's first process writes itself into its cgroup before anything of the tenant runs, so
 * everything it starts is counted and can be killed as one.
 */
export interface Cgroups {
  version: "v1" | "v2";
  memory: boolean;
  pids: boolean;
  cpu: boolean;
  /** `group`: sandboxes of one group (a deployment) share one CPU share, however many they are */
  create(name: string, limits: SandboxLimits, group?: string): Cgroup;
  close(): void;
}

export interface Cgroup {
  /** `cgroup.procs` files the sandbox's first process joins */
  procsFiles: string[];
  killAll(): void;
  limitHit(): LimitHit | null;
  remove(): void;
}

const MB = 1024 * 1024;
const CONTROLLERS = ["memory", "pids", "cpu"] as const;
type Controller = (typeof CONTROLLERS)[number];

interface Layout {
  version: "v1" | "v2";
  /** controller -> folder that holds this platform's cgroups */
  dirs: Partial<Record<Controller, string>>;
}

/** Finds writable memory and pids controllers; null when this host gives none to this process. */
export function openCgroups(prefix = "ferry"): Cgroups | null {
  const layout = findLayout(`${prefix}-${process.pid}`);
  if (!layout) return null;
  for (const dir of new Set(Object.values(layout.dirs))) sweepStale(join(dir, ".."), prefix);
  const { version, dirs } = layout;

  return {
    version,
    memory: !!dirs.memory,
    pids: !!dirs.pids,
    cpu: !!dirs.cpu,
    create(name, limits, group) {
      const made: string[] = [];
      const groups: string[] = [];
      const rel = group ? join(group, name) : name;
      const at = (c: Controller) => {
        const d = join(dirs[c]!, rel);
        if (!made.includes(d)) {
          if (group && !groups.includes(join(dirs[c]!, group))) {
            const g = join(dirs[c]!, group);
            mkdirSync(g, { recursive: true });
            if (version === "v2") tryWrite(join(g, "cgroup.subtree_control"), Object.keys(dirs).map((k) => `+${k}`).join(" "));
            groups.push(g);
          }
          mkdirSync(d, { recursive: true });
          made.push(d);
        }
        return d;
      };
      // the cpu controller needs no setting: sibling groups get equal shares by default
      if (dirs.cpu && group) at("cpu");
      if (dirs.memory && limits.memoryMb) {
        const d = at("memory");
        const bytes = String(Math.round(limits.memoryMb * MB));
        if (version === "v2") {
          writeFileSync(join(d, "memory.max"), bytes);
          tryWrite(join(d, "memory.swap.max"), "0");
        } else {
          writeFileSync(join(d, "memory.limit_in_bytes"), bytes);
          // without swap accounting the file is missing; with it, memory may not spill into swap
          tryWrite(join(d, "memory.memsw.limit_in_bytes"), bytes);
        }
      }
      if (dirs.pids && limits.pids) writeFileSync(join(at("pids"), "pids.max"), String(limits.pids));
      const memDir = dirs.memory && limits.memoryMb ? join(dirs.memory, rel) : null;
      const pidsDir = dirs.pids && limits.pids ? join(dirs.pids, rel) : null;
      return {
        procsFiles: made.map((d) => join(d, "cgroup.procs")),
        killAll: () => made.forEach((d) => killIn(d, version)),
        limitHit() {
          if (memDir && oomKills(memDir, version) > 0) return { limit: "memory", message: `memory limit ${limits.memoryMb} MB` };
          if (pidsDir && counter(join(pidsDir, "pids.events"), "max") > 0) return { limit: "pids", message: `process limit ${limits.pids}` };
          return null;
        },
        remove() {
          made.forEach((d) => removeDir(d, version));
          // the group goes with its last sandbox; while others remain rmdir simply fails
          for (const g of groups) setTimeout(() => tryRmdir(g), 1_500).unref();
        },
      };
    },
    close() {
      for (const dir of new Set(Object.values(dirs))) removeTree(dir, version);
    },
  };
}

function findLayout(base: string): Layout | null {
  let mounts: string[];
  try {
    mounts = readFileSync("/proc/self/mounts", "utf8").split("\n");
  } catch {
    return null;
  }
  const v1: Layout["dirs"] = {};
  let v2root: string | null = null;
  for (const line of mounts) {
    const [, point, type, options] = line.split(" ");
    if (!point || !options) continue;
    if (type === "cgroup2") v2root ??= point;
    if (type !== "cgroup") continue;
    const opts = options.split(",");
    for (const c of CONTROLLERS) if (opts.includes(c)) v1[c] ??= point;
  }
  if (v1.memory || v1.pids) {
    const dirs: Layout["dirs"] = {};
    for (const c of CONTROLLERS) {
      const root = v1[c];
      if (root && makeDir(join(root, base))) dirs[c] = join(root, base);
    }
    if (dirs.memory || dirs.pids) return { version: "v1", dirs };
  }
  if (v2root) {
    const controllers = read(join(v2root, "cgroup.controllers")).split(/\s+/);
    const wanted = CONTROLLERS.filter((c) => controllers.includes(c));
    if (!wanted.length) return null;
    // the root's subtree_control hands the controllers to ferry-<pid>, whose own hands them on
    tryWrite(join(v2root, "cgroup.subtree_control"), wanted.map((c) => `+${c}`).join(" "));
    const dir = join(v2root, base);
    if (!makeDir(dir)) return null;
    if (!tryWrite(join(dir, "cgroup.subtree_control"), wanted.map((c) => `+${c}`).join(" "))) {
      removeDir(dir, "v2");
      return null;
    }
    const dirs: Layout["dirs"] = {};
    for (const c of wanted) dirs[c] = dir;
    return { version: "v2", dirs };
  }
  return null;
}

function makeDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    // a folder we cannot give limits to is of no use
    return existsSync(join(dir, "cgroup.procs"));
  } catch {
    return false;
  }
}

const read = (file: string) => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
};

function tryRmdir(dir: string) {
  try {
    rmdirSync(dir);
  } catch {
    /* still in use, or gone */
  }
}

function tryWrite(file: string, value: string): boolean {
  try {
    writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

/** `name N` lines (memory.events, pids.events, memory.oom_control). */
function counter(file: string, name: string): number {
  const m = new RegExp(`^${name}\\s+(\\d+)`, "m").exec(read(file));
  return m ? Number(m[1]) : 0;
}

function oomKills(dir: string, version: "v1" | "v2"): number {
  if (version === "v2") return counter(join(dir, "memory.events"), "oom_kill");
  // kernels since 4.13 count OOM kills in oom_control; older ones only count hits of the limit
  const text = read(join(dir, "memory.oom_control"));
  if (/^oom_kill\s/m.test(text)) return counter(join(dir, "memory.oom_control"), "oom_kill");
  return Number(read(join(dir, "memory.failcnt")) || 0);
}

function pidsIn(dir: string): number[] {
  return read(join(dir, "cgroup.procs"))
    .split("\n")
    .filter(Boolean)
    .map(Number);
}

function killIn(dir: string, version: "v1" | "v2") {
  if (version === "v2" && tryWrite(join(dir, "cgroup.kill"), "1")) return;
  // v1 has no kill switch: a few passes catch what was forked while the first one ran
  for (let pass = 0; pass < 5; pass++) {
    const pids = pidsIn(dir);
    if (!pids.length) return;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone already */
      }
    }
  }
}

/** rmdir once the processes are gone; the kernel may take a moment to reap the last ones. */
function removeDir(dir: string, version: "v1" | "v2", tries = 20) {
  try {
    rmdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || tries <= 0) return;
    if (code === "EBUSY") killIn(dir, version);
    setTimeout(() => removeDir(dir, version, tries - 1), 50).unref();
  }
}

/** A cgroup and every one below it (a deployment's group holds its instances' cgroups). */
function removeTree(dir: string, version: "v1" | "v2") {
  let children: string[] = [];
  try {
    children = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return;
  }
  for (const c of children) removeTree(join(dir, c), version);
  killIn(dir, version);
  try {
    rmdirSync(dir);
  } catch {
    removeDir(dir, version);
  }
}

/** The cgroups of platforms that were killed (so never closed): their processes and folders go. */
function sweepStale(parent: string, prefix: string) {
  let names: string[] = [];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  const version = existsSync(join(parent, "cgroup.controllers")) ? "v2" : "v1";
  for (const name of names) {
    const m = new RegExp(`^${prefix}-(\\d+)$`).exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    removeTree(join(parent, name), version);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
}
