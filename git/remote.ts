import { runHttpBackend } from "./http-backend.ts";
import type { HookHandler, HookServer } from "./hook-server.ts";
import { ensureRepo, repoExists, repoPath } from "./repos.ts";
import { dirname } from "node:path";

/** One push's handling: the hook's handler, and `finished` once the request is over (refs too). */
export interface PushSession {
  handler: HookHandler;
  finished(): void;
}

export interface GitRemoteDeps<A extends { accountId: string }> {
  /** where the bare repositories live (`<root>/<account>/<project>.git`) */
  root: string;
  hooks: HookServer;
  /** the Basic-auth password (a Ferry token) -> who pushes; null refuses with 401 */
  authenticate(password: string): Promise<A | null>;
  /** a project name this platform would accept, or why not */
  projectProblem(project: string): string | null;
  /** called for each receive-pack request: what its pre-receive hook does */
  startPush(auth: A, project: string, repo: string): PushSession;
  log?: (line: string) => void;
}

const SERVICES = new Set(["git-upload-pack", "git-receive-pack"]);
/** cap on a pushed pack, enforced by receive-pack itself */
const MAX_PUSH_BYTES = String(1024 * 1024 * 1024);

const text = (status: number, body: string, headers: Record<string, string> = {}) => new Response(body + "\n", { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });

/**
 * `<API>/git/<project>.git`: git's smart HTTP protocol, served by the real `git http-backend`.
 * Only the smart endpoints exist (refs advertisement, upload-pack, receive-pack); every request
 * needs Basic auth whose password is a token, and reaches only its own account's repositories.
 */
export function createGitRemote<A extends { accountId: string }>(deps: GitRemoteDeps<A>) {
  async function handle(req: Request, path: string): Promise<Response> {
    const m = /^\/([^/]+)\.git(\/info\/refs|\/git-upload-pack|\/git-receive-pack)$/.exec(path);
    if (!m) return text(404, "Not a Ferry git remote path: use <API URL>/git/<project>.git");
    const [, project, endpoint] = m as unknown as [string, string, string];
    const service = endpoint === "/info/refs" ? new URL(req.url).searchParams.get("service") : endpoint.slice(1);
    if (!service || !SERVICES.has(service)) return text(403, "Only git's smart HTTP protocol is served (git >= 1.6.6)");
    if ((endpoint === "/info/refs") !== (req.method === "GET") || (req.method !== "GET" && req.method !== "POST")) return text(405, "Method not allowed");

    const auth = await authenticateBasic(req);
    if (!auth) return text(401, "Authentication required: any user name, a Ferry token (scope `deployments`) as the password", { "www-authenticate": 'Basic realm="Ferry", charset="UTF-8"' });
    const problem = deps.projectProblem(project);
    if (problem) return text(404, `No project ${JSON.stringify(project)}: a project name ${problem}`);

    const repo = repoPath(deps.root, auth.accountId, project);
    if (service === "git-receive-pack") await ensureRepo(repo);
    else if (!(await repoExists(repo))) return text(404, `Repository ${project}.git has nothing yet: push to it first`);

    const config: Record<string, string> = {
      "core.hooksPath": deps.hooks.hooksDir,
      "http.receivepack": "true",
      "http.uploadpack": "true",
      // pushed objects are untrusted: check them all, and bound their size
      "receive.fsckObjects": "true",
      "receive.maxInputSize": MAX_PUSH_BYTES,
      "receive.denyNonFastForwards": "false",
      "receive.denyDeletes": "false",
      "receive.denyDeleteCurrent": "false",
      "uploadpack.allowFilter": "true",
    };
    let env: Record<string, string> = {};
    let done = () => {};
    if (service === "git-receive-pack" && req.method === "POST") {
      const session = deps.startPush(auth, project, repo);
      const cap = deps.hooks.register(session.handler);
      env = { FERRY_HOOK_SOCKET: deps.hooks.socketPath, FERRY_HOOK_TOKEN: cap.token };
      done = () => {
        cap.revoke();
        session.finished();
      };
    }
    try {
      return await runHttpBackend(req, { projectRoot: dirname(repo), pathInfo: `/${project}.git${endpoint}`, remoteUser: auth.accountId, config, env, onExit: () => done(), log: deps.log });
    } catch (e) {
      done();
      throw e;
    }
  }

  async function authenticateBasic(req: Request): Promise<A | null> {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(req.headers.get("authorization") ?? "");
    if (!m) return null;
    const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const password = colon < 0 ? "" : decoded.slice(colon + 1);
    if (!password) return null;
    return deps.authenticate(password);
  }

  return { handle };
}
export type GitRemote = ReturnType<typeof createGitRemote>;
