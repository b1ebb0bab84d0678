import type { ChildProcess, StdioOptions } from "node:child_process";

/** A host path made visible inside the sandbox at `target`; read-only unless `writable`. */
export interface Mount {
  source: string;
  target: string;
  writable?: boolean;
}

/** Limits that hold for the whole sandbox: every process in it together. */
export interface SandboxLimits {
  /** memory of every process together (heap, Buffers, native memory, its /tmp), in MB */
  memoryMb?: number;
  /** processes and threads together */
  pids?: number;
  /** open files per process */
  openFiles?: number;
  /** size of the private /tmp, in MB */
  tmpMb?: number;
}

export interface SandboxSpec {
  /** names the sandbox's cgroup; letters, digits, `-` and `_` */
  name: string;
  /** sandboxes of one group (a deployment's instances) share one CPU share between them, so an
   * app running many instances gets no more of the machine's cores than one running a few */
  group?: string;
  /** absolute path of the program, as seen inside the sandbox */
  command: string;
  args: string[];
  /** working folder inside the sandbox */
  cwd: string;
  /** the whole environment: nothing of the platform's own is added */
  env: Record<string, string>;
  /** what the sandbox sees besides the system's runtime files, /dev, /proc and a private /tmp */
  mounts: Mount[];
  limits: SandboxLimits;
  stdio: StdioOptions;
  serialization?: "json" | "advanced";
}

/** The limit a sandbox ran into, read from its cgroup once it ended. */
export interface LimitHit {
  limit: "memory" | "pids";
  /** e.g. "memory limit 128 MB" */
  message: string;
}

export interface SandboxedProcess {
  readonly proc: ChildProcess;
  /** Ends every process of the sandbox at once, including those that left its process group. */
  kill(): void;
  /** Which limit the sandbox hit, if any (memory: the kernel's OOM kill; pids: a refused fork). */
  limitHit(): LimitHit | null;
  /** Frees what the sandbox held on the host (its cgroup). Call after it exited. */
  dispose(): void;
}

export interface SandboxStatus {
  /** `bwrap`: namespaces (mount, pid, ipc, uts) and an unprivileged identity; `none`: the operator
   * chose to run tenant code unsandboxed (FERRY_UNSANDBOXED=1) */
  mode: "bwrap" | "none";
  /** how sandboxed code is kept from being root on the host */
  identity: string;
  /** cgroup version used for memory and process limits, or null when none could be used */
  cgroup: "v1" | "v2" | null;
  /** cpuShares: each deployment's instances share one CPU weight */
  limits: { memory: boolean; pids: boolean; openFiles: boolean; cpuShares: boolean };
  /** what an operator must know: each is printed at start and shown by `ferry whoami` */
  warnings: string[];
}

export interface Sandbox {
  readonly status: SandboxStatus;
  /** who sandboxed code runs as on the host, when the platform must hand it writable folders;
   * null when it runs as the platform's own user (inside a user namespace) */
  readonly owner: { uid: number; gid: number } | null;
  spawn(spec: SandboxSpec): SandboxedProcess;
  /** removes the platform's cgroups */
  close(): void;
}
