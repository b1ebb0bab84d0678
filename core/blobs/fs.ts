import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { mkdir, readFile, rename, rm, stat, writeFile, readdir } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import { randomId } from "../ids.ts";
import { assertKey, type BlobStore } from "./port.ts";

/** Bodies up to this size are written with synchronous calls: opening, writing, closing and
 * renaming a small file takes less than the thread pool hops of the same calls made async. */
const SYNC_PUT_MAX = 64 * 1024;

/** Blob store on the local filesystem. Writes go to a temp file and are renamed into place, so a
 * reader never sees a partial blob and a crash mid-write leaves nothing behind under the key. */
export function createFsBlobStore(root: string): BlobStore {
  const pathOf = (key: string) => {
    assertKey(key);
    return join(root, ...key.split("/"));
  };
  const tmpDir = join(root, ".tmp");
  // Folders known to exist: each is made once per process, not twice per put (content-addressed
  // uploads land in a few folders). Bounded, and a folder removed under us is made again below.
  const madeDirs = new Set<string>();
  const ensureDir = async (dir: string) => {
    if (madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    if (madeDirs.size >= 10_000) madeDirs.clear();
    madeDirs.add(dir);
  };
  const ensureDirSync = (dir: string) => {
    if (madeDirs.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    if (madeDirs.size >= 10_000) madeDirs.clear();
    madeDirs.add(dir);
  };
  // temp names: a random per-store prefix and a counter, unique without entropy per put
  const tmpPrefix = join(tmpDir, `${randomId(12)}-`);
  let tmpSeq = 0;
  const nextTmp = () => `${tmpPrefix}${(++tmpSeq).toString(36)}.part`;
  /** writeThenRename's steps as synchronous calls, for small bodies */
  const putSmall = (target: string, body: Buffer | Uint8Array | string) => {
    const dir = dirname(target);
    ensureDirSync(dir);
    ensureDirSync(tmpDir);
    const tmp = nextTmp();
    try {
      try {
        writeFileSync(tmp, body, { flag: "wx" });
      } catch (e) {
        if (!isNotFound(e)) throw e;
        madeDirs.delete(tmpDir);
        ensureDirSync(tmpDir);
        writeFileSync(tmp, body, { flag: "wx" });
      }
      try {
        renameSync(tmp, target);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        madeDirs.delete(dir);
        ensureDirSync(dir);
        renameSync(tmp, target);
      }
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  };
  /** Writes a temp file and renames it into place; a failed write removes the temp file. */
  const writeThenRename = async (target: string, write: (tmp: string) => Promise<void>) => {
    const dir = dirname(target);
    await ensureDir(dir);
    await ensureDir(tmpDir);
    const tmp = nextTmp();
    try {
      await write(tmp);
      try {
        await rename(tmp, target);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        // the key's folder went away since it was made: make it again, once
        madeDirs.delete(dir);
        await ensureDir(dir);
        await rename(tmp, target);
      }
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  };

  return {
    localPath: pathOf,
    async put(key, body) {
      if ((typeof body === "string" ? body.length * 3 : body.byteLength) <= SYNC_PUT_MAX) return putSmall(pathOf(key), body);
      const write = (tmp: string) => writeFile(tmp, body, { flag: "wx" });
      await writeThenRename(pathOf(key), (tmp) =>
        write(tmp).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
          // the temp folder went away (removed by hand): made again, once
          madeDirs.delete(tmpDir);
          return ensureDir(tmpDir).then(() => write(tmp));
        }),
      );
    },
    async putStream(key, body) {
      let target: string;
      try {
        target = pathOf(key);
      } catch (e) {
        body.destroy();
        throw e;
      }
      await writeThenRename(target, (tmp) => pipeline(body, createWriteStream(tmp, { flags: "wx" })));
    },
    async get(key) {
      try {
        return await readFile(pathOf(key));
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },
    async getStream(key, range) {
      const path = pathOf(key);
      try {
        const s = await stat(path);
        if (!s.isFile()) return null;
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
      return createReadStream(path, range ? { start: range.start, end: range.end } : undefined) as Readable;
    },
    async head(key) {
      try {
        // one short metadata call: cheaper than a thread pool hop, and a miss builds no error
        const s = statSync(pathOf(key), { throwIfNoEntry: false });
        return s?.isFile() ? { size: s.size } : null;
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async list(prefix) {
      const base = join(root, ...prefix.split("/").filter(Boolean));
      const out: string[] = [];
      const walk = async (dir: string) => {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (e) {
          if (isNotFound(e)) return;
          throw e;
        }
        for (const ent of entries) {
          const p = join(dir, ent.name);
          if (ent.isDirectory()) await walk(p);
          else out.push(relative(root, p).split(sep).join("/"));
        }
      };
      // a prefix may end mid-name (`logs/abc`); walk its folder and filter
      const dir = prefix.endsWith("/") ? base : dirname(base);
      await walk(dir);
      return out.filter((k) => k.startsWith(prefix) && !k.startsWith(".tmp/")).sort();
    },
  };
}

const isNotFound = (e: unknown) => (e as NodeJS.ErrnoException)?.code === "ENOENT" || (e as NodeJS.ErrnoException)?.code === "ENOTDIR";
