import { chmodSync, copyFileSync, lchownSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, type Stats } from "node:fs";
import { join } from "node:path";

// Walks over file trees on the platform's side of a build sandbox. They never follow a symlink:
// every entry is looked at with lstat and handled by its own kind, so a link a build planted
// (`node_modules/x -> /root/.ferry`) is copied as a link and never read through. Trees a build
// wrote are only walked once its sandbox has ended (nothing can swap an entry mid-walk).
// Synchronous in slices: one call per entry is short, and the platform's event loop (the router
// runs in the same process) gets a turn between slices.

export interface Owner {
  uid: number;
  gid: number;
}

const SLICE = 256;
const yieldTurn = () => new Promise<void>((r) => setImmediate(r));

interface Entry {
  rel: string;
  st: Stats;
}

/** Every entry under `root` (not `root` itself), parents before children. */
async function* walk(root: string, maxEntries: number): AsyncGenerator<Entry> {
  const stack: string[] = [""];
  let n = 0;
  while (stack.length) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      names = readdirSync(join(root, dir));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw e;
    }
    for (const name of names) {
      if (++n > maxEntries) throw new TreeTooLarge(maxEntries);
      if (n % SLICE === 0) await yieldTurn();
      const rel = dir ? `${dir}/${name}` : name;
      const st = lstatSync(join(root, rel));
      yield { rel, st };
      if (st.isDirectory()) stack.push(rel);
    }
  }
}

export class TreeTooLarge extends Error {
  constructor(readonly max: number) {
    super(`more than ${max} files`);
  }
}

/** Gives every entry of a tree the platform just wrote (a materialized workspace) to `owner`. */
export async function chownTree(root: string, owner: Owner): Promise<void> {
  lchownSync(root, owner.uid, owner.gid);
  for await (const { rel } of walk(root, Infinity)) lchownSync(join(root, rel), owner.uid, owner.gid);
}

export interface MirrorOptions {
  /** folders made in `dst` get this owner (else the platform's) */
  dirOwner?: Owner | null;
  /** called for each regular file of `src` before it is linked */
  beforeLink?: (abs: string, st: Stats) => void;
  /** past this many entries the mirror stops with TreeTooLarge */
  maxEntries?: number;
}

/**
 * Recreates `src` at `dst` (which must not exist): folders made anew, regular files hard-linked
 * (copied when the two are on different disks), symlinks recreated with the same target text.
 * Anything else (sockets, fifos) is left out.
 */
export async function mirrorTree(src: string, dst: string, opts: MirrorOptions = {}): Promise<void> {
  const own = (p: string) => opts.dirOwner && lchownSync(p, opts.dirOwner.uid, opts.dirOwner.gid);
  mkdirSync(dst, { mode: 0o755 });
  own(dst);
  for await (const { rel, st } of walk(src, opts.maxEntries ?? Infinity)) {
    const from = join(src, rel);
    const to = join(dst, rel);
    if (st.isDirectory()) {
      mkdirSync(to, { mode: 0o755 });
      own(to);
    } else if (st.isFile()) {
      opts.beforeLink?.(from, st);
      try {
        linkSync(from, to);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EXDEV") throw e;
        copyFileSync(from, to);
        chmodSync(to, st.mode & 0o555);
      }
    } else if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(from), to);
      own(to);
    }
  }
}
