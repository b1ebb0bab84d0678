import { ZipFile } from "yazl";

export interface ZipEntry {
  /** POSIX path inside the archive */
  path: string;
  data: Buffer;
  /** POSIX mode bits; 0o755 for executables. Lambda keeps them. */
  mode?: number;
}

/**
 * A zip archive in memory: what Lambda's CreateFunction takes as `ZipFile`, at most 50 MB. The
 * bytes are a function of the entries alone (sorted paths, one fixed timestamp), so Lambda's
 * CodeSha256 is too: an unchanged function publishes no new code.
 */
export async function zipFiles(entries: ZipEntry[]): Promise<Buffer> {
  const zip = new ZipFile();
  // yazl writes the DOS date in local time and the Info-ZIP "UT" field in UTC: a local
  // 1980-01-01 with the DOS field alone is the same bytes in every time zone
  const mtime = new Date(1980, 0, 1);
  const done = new Promise<Buffer>((ok, fail) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on("data", (c: Buffer) => chunks.push(c));
    zip.outputStream.once("end", () => ok(Buffer.concat(chunks)));
    zip.outputStream.once("error", fail);
    zip.once("error", fail);
  });
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    zip.addBuffer(e.data, e.path, { mtime, forceDosTimestamp: true, mode: ((e.mode ?? 0o644) & 0o7777) | 0o100000 });
  }
  zip.end();
  return done;
}
