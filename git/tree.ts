import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { git, isolatedGitEnv, type GitCommandError } from "./run.ts";
import type { ObjectEnv } from "./repos.ts";

export interface TreeFile {
  path: string;
  /** 0o100644 or 0o100755 */
  mode: number;
  /** git's blob id: sha1 of "blob <size>\0" + content, not the content's own sha1 */
  oid: string;
  size: number;
}

export interface Tree {
  files: TreeFile[];
  /** what a deployment cannot hold (symlinks, submodules), with why */
  skipped: { path: string; why: string }[];
}

/**
 * The files of a commit, as git plumbing lists them: `ls-tree -r --long -z` (nothing of the
 * pushed content is checked out or run). Symlinks and submodules are skipped and reported, since
 * a deployment holds regular files only.
 */
export async function readTree(env: ObjectEnv, commit: string): Promise<Tree> {
  const out = await git(["ls-tree", "-r", "-z", "--long", "--full-tree", `${commit}^{tree}`], { env });
  const files: TreeFile[] = [];
  const skipped: Tree["skipped"] = [];
  for (const rec of out.toString("utf8").split("\0")) {
    if (!rec) continue;
    const tab = rec.indexOf("\t");
    const [mode, type, oid, size] = rec.slice(0, tab).split(/ +/);
    const path = rec.slice(tab + 1);
    if (type === "blob" && (mode === "100644" || mode === "100755")) files.push({ path, mode: parseInt(mode!, 8), oid: oid!, size: Number(size) });
    else if (mode === "120000") skipped.push({ path, why: "symlink" });
    else if (type === "commit") skipped.push({ path, why: "submodule" });
    else skipped.push({ path, why: `mode ${mode}` });
  }
  return { files, skipped };
}

/**
 * Streams blobs out of `git cat-file --batch`, one at a time in the order asked: each arrives
 * as `<oid> blob <size>\n<content>\n`. Only one blob is held in memory at once.
 */
export async function readBlobs(env: ObjectEnv, oids: string[], onBlob: (oid: string, content: Buffer) => Promise<void>): Promise<void> {
  if (!oids.length) return;
  const child = spawn("git", ["cat-file", "--batch"], { env: isolatedGitEnv(env), stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d).slice(-4096)));
  const closed = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
  child.stdin.on("error", () => {});
  child.stdin.end(oids.join("\n") + "\n");

  // pending bytes as a list of chunks, joined only when a whole header or blob is there, so a
  // large blob is copied once rather than once per chunk
  let parts: Buffer[] = [];
  let have = 0;
  const take = (n: number) => {
    const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    parts = rest.length ? [rest] : [];
    have = rest.length;
    return head;
  };
  let want: { oid: string; size: number } | null = null;
  let i = 0;
  try {
    for await (const chunk of child.stdout) {
      parts.push(chunk as Buffer);
      have += (chunk as Buffer).length;
      for (;;) {
        if (!want) {
          const joined = take(have);
          const nl = joined.indexOf(10);
          parts = [joined];
          have = joined.length;
          if (nl < 0) break;
          const header = take(nl + 1).subarray(0, nl).toString("utf8").split(" ");
          if (header[1] !== "blob") throw new Error(`object ${header[0]} is ${header[1] ?? "unreadable"}, not a blob`);
          want = { oid: header[0]!, size: Number(header[2]) };
        }
        if (have < want.size + 1) break;
        const content = Buffer.from(take(want.size + 1).subarray(0, want.size));
        if (want.oid !== oids[i]) throw new Error(`git cat-file answered ${want.oid} for ${oids[i]}`);
        i++;
        const done = want;
        want = null;
        await onBlob(done.oid, content);
      }
    }
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  const code = await closed;
  if (i !== oids.length) throw Object.assign(new Error(`git cat-file ended after ${i} of ${oids.length} objects (${code}): ${stderr.trim()}`), { stderr } as Partial<GitCommandError>);
}

export const contentSha = (content: Buffer) => createHash("sha1").update(content).digest("hex");
