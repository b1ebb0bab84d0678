import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LookupAddress } from "node:dns";
import { fetchLinked } from "../../git/fetch.ts";
import { refValue } from "../../git/repos.ts";
import { runHttpBackend } from "../../git/http-backend.ts";
import { listen, type Listening } from "../../server/listen.ts";
import { gitOk, newRepo, startGitDaemon } from "./helpers.ts";

/**
 * Fetches of a linked repository at fetch time: the host is resolved once, refused when any
 * address is non-public, and git connects to the checked address (`repo.example.test` is known
 * only to the resolver given here, so a fetch that works went where that answer said).
 */
describe("fetching a linked repository reaches only the checked, public addresses", () => {
  let base: string;
  let daemon: Awaited<ReturnType<typeof startGitDaemon>>;
  let http: Listening;
  let sha: string;
  const cleanup: string[] = [];
  const asked: string[] = [];
  const table: Record<string, LookupAddress[]> = {
    "repo.example.test": [{ address: "127.0.0.1", family: 4 }],
    "mixed.example.test": [{ address: "93.184.216.34", family: 4 }, { address: "127.0.0.1", family: 4 }],
  };
  const resolve = async (name: string) => {
    asked.push(name);
    const a = table[name];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" });
    return a;
  };
  const gitPort = () => new URL(daemon.url("x")).port;
  let n = 0;
  const target = () => join(base, `target-${n++}.git`);

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), "ferry-linked-fetch-"));
    cleanup.push(base);
    const work = await newRepo({ "index.html": "linked\n" }, "v1");
    cleanup.push(work);
    sha = (await gitOk(["rev-parse", "HEAD"], { cwd: work })).trim();
    await gitOk(["clone", "-q", "--bare", work, join(base, "upstream.git")]);
    daemon = await startGitDaemon(base);
    // git's own smart-HTTP server on loopback
    http = await listen({ fetch: (req) => runHttpBackend(req, { projectRoot: base, pathInfo: new URL(req.url).pathname, remoteUser: "test", config: {} }) }, 0);
  });
  afterAll(async () => {
    daemon?.stop();
    await http?.close();
    for (const d of cleanup) await rm(d, { recursive: true, force: true });
  });

  const refspec = ["+refs/heads/main:refs/heads/main"];

  it("refuses a name that resolves to loopback, over git:// and http://, and fetches nothing", async () => {
    for (const url of [`git://repo.example.test:${gitPort()}/upstream.git`, `http://repo.example.test:${http.port}/upstream.git`, `http://mixed.example.test:${http.port}/upstream.git`]) {
      const repo = target();
      asked.length = 0;
      const err = await fetchLinked(repo, url, refspec, { resolve }).catch((e) => e);
      expect(err, url).toMatchObject({ code: "non_public_address", status: 422 });
      expect(err.message).toMatch(/^(repo|mixed)\.example\.test resolves to the non-public address 127\.0\.0\.1 \(linked repositories are fetched from public addresses only\)$/);
      expect(asked).toHaveLength(1);
      expect(await refValue(repo, "refs/heads/main")).toBeNull();
    }
  });

  it("refuses a non-public address literal or localhost without a lookup", async () => {
    for (const url of [`git://127.0.0.1:${gitPort()}/upstream.git`, `http://[::1]:${http.port}/upstream.git`, "http://169.254.169.254/r.git", `http://localhost:${http.port}/upstream.git`]) {
      asked.length = 0;
      const err = await fetchLinked(target(), url, refspec, { resolve }).catch((e) => e);
      expect(err, url).toMatchObject({ code: "non_public_address" });
      expect(asked).toEqual([]);
    }
  });

  it("refuses transports other than http, https and git", async () => {
    for (const url of [`file://${join(base, "upstream.git")}`, "ext::sh -c true", "ssh://git@example.com/r.git"]) {
      const err = await fetchLinked(target(), url, refspec, { resolve, allowPrivate: true }).catch((e) => e);
      expect(err, url).toMatchObject({ code: "invalid_repo_url" });
    }
  });

  it("with the operator's opt-out, fetches over git:// and http:// from the address the resolver gave", async () => {
    for (const url of [`git://repo.example.test:${gitPort()}/upstream.git`, `http://repo.example.test:${http.port}/upstream.git`, `git://127.0.0.1:${gitPort()}/upstream.git`]) {
      const repo = target();
      await fetchLinked(repo, url, refspec, { resolve, allowPrivate: true });
      expect(await refValue(repo, "refs/heads/main"), url).toBe(sha);
    }
  });
});
