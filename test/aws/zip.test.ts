// The function zips Lambda gets: bytes that depend on the entries only (so CodeSha256 does), and
// archives standard tools read with their modes and contents.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { zipFiles, type ZipEntry } from "../../runtime/lambda/zip.ts";

const entries = (): ZipEntry[] => [
  { path: "bin/tool", data: Buffer.from("#!/bin/sh\necho hi\n"), mode: 0o755 },
  { path: "index.mjs", data: Buffer.from("export default () => new Response('hi');\n".repeat(50)) },
  { path: "data/é.json", data: Buffer.from('{"a":1}') },
  { path: "empty.txt", data: Buffer.alloc(0) },
];

/** Reads the central directory: enough to check names, modes, DOS times and contents without a zip tool. */
function readZip(zip: Buffer) {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const out: { path: string; mode: number; dosDate: number; dosTime: number; data: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const dosTime = zip.readUInt16LE(at + 12);
    const dosDate = zip.readUInt16LE(at + 14);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const mode = zip.readUInt32LE(at + 38) >>> 16;
    const local = zip.readUInt32LE(at + 42);
    const path = zip.toString("utf8", at + 46, at + 46 + nameLen);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    out.push({ path, mode, dosDate, dosTime, data: method === 8 ? inflateRawSync(raw) : Buffer.from(raw) });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

describe("zipFiles", () => {
  const dir = mkdtempSync(join(tmpdir(), "ferry-zip-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("zips the same entries to the same bytes, whatever their order", async () => {
    const a = await zipFiles(entries());
    expect((await zipFiles(entries().reverse())).equals(a)).toBe(true);
    const changed = entries();
    changed[1]!.data = Buffer.from("export default () => new Response('bye');\n");
    expect((await zipFiles(changed)).equals(a)).toBe(false);
  });

  it("the bytes do not depend on the machine's time zone", () => {
    // a process of its own per zone: the platform zips in Lambda (UTC), tests anywhere
    const script = `import { createHash } from "node:crypto"; import { zipFiles } from ${JSON.stringify(new URL("../../runtime/lambda/zip.ts", import.meta.url).href)};
      const z = await zipFiles([{ path: "a.txt", data: Buffer.from("a") }, { path: "b", data: Buffer.from("b"), mode: 0o755 }]);
      process.stdout.write(createHash("sha256").update(z).digest("hex"));`;
    const hash = (tz: string) => execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { env: { ...process.env, TZ: tz }, encoding: "utf8" });
    const zones = ["UTC", "Pacific/Kiritimati", "America/Los_Angeles"].map(hash);
    expect(new Set(zones).size).toBe(1);
  });

  it("stores sorted paths, unix modes, a fixed 1980-01-01 time and the contents", async () => {
    const files = readZip(await zipFiles(entries()));
    expect(files.map((f) => f.path)).toEqual(["bin/tool", "data/é.json", "empty.txt", "index.mjs"]);
    expect(files.map((f) => f.mode.toString(8))).toEqual(["100755", "100644", "100644", "100644"]);
    for (const f of files) expect([f.dosDate, f.dosTime]).toEqual([(1 << 5) | 1, 0]);
    const byPath = new Map(entries().map((e) => [e.path, e.data]));
    for (const f of files) expect(f.data.equals(byPath.get(f.path)!)).toBe(true);
  });

  const hasUnzip = (() => {
    try {
      execFileSync("unzip", ["-v"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasUnzip)("unzip tests the archive and sees the modes and contents", async () => {
    const file = join(dir, "t.zip");
    writeFileSync(file, await zipFiles(entries()));
    execFileSync("unzip", ["-tq", file]);
    const listing = execFileSync("unzip", ["-Z", file], { encoding: "utf8" });
    expect(listing).toMatch(/^-rwxr-xr-x .* bin\/tool$/m);
    expect(listing).toMatch(/^-rw-r--r-- .* index\.mjs$/m);
    expect(listing).toMatch(/80-Jan-01 00:00 index\.mjs$/m);
    expect(execFileSync("unzip", ["-p", file, "bin/tool"], { encoding: "utf8" })).toBe("#!/bin/sh\necho hi\n");
    expect(execFileSync("unzip", ["-p", file, "data/é.json"], { encoding: "utf8" })).toBe('{"a":1}');
  });
});
