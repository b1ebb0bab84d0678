import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { ApiError, createClient } from "../client.ts";
import { resolveTarget } from "../config.ts";
import { gitIn } from "../git-info.ts";
import { CliError, type Io } from "../io.ts";
import { chooseProject, projectNotFound } from "../project.ts";
import { oneOf } from "../strict.ts";

type Exit = (code: number) => void;

interface GitSettings {
  project: string;
  remotePath: string;
  productionBranch: string;
  linkedUrl?: string;
  webhookPath?: string;
  webhookSecret?: string;
}

/** `<API URL>/git/<project>.git`: the remote every project has. */
export const remoteUrlOf = (apiUrl: string, project: string) => `${apiUrl}/git/${encodeURIComponent(project)}.git`;

/**
 * Adds (or repoints) a `ferry` remote in the repository at `cwd` and gives git the token through
 * its credential helper (`git credential approve`), so neither the remote URL nor .git/config
 * ever holds it. Without a configured helper, git's `store` helper is enabled for this API's
 * URL only, in this repository.
 */
async function addRemote(io: Io, cwd: string, url: string, token: string) {
  if ((await gitIn(cwd, ["rev-parse", "--git-dir"])) === null) throw new CliError(`${cwd} is not in a git repository (run \`git init\` first)`, "not_a_repo");
  const existing = await gitIn(cwd, ["remote", "get-url", "ferry"]);
  const set = existing === null ? await gitIn(cwd, ["remote", "add", "ferry", url]) : await gitIn(cwd, ["remote", "set-url", "ferry", url]);
  if (set === null) throw new CliError("could not add the `ferry` remote", "git_failed");
  const u = new URL(url);
  const helpers = (await gitIn(cwd, ["config", "--get-urlmatch", "credential.helper", url]))?.trim();
  if (!helpers) {
    if ((await gitIn(cwd, ["config", "--local", `credential.${u.origin}.helper`, "store"])) === null) throw new CliError("could not configure a git credential helper", "git_failed");
  }
  const creds = `protocol=${u.protocol.slice(0, -1)}\nhost=${u.host}\nusername=ferry\npassword=${token}\n\n`;
  if ((await gitIn(cwd, ["credential", "approve"], creds)) === null) throw new CliError("git credential approve failed", "git_failed");
  return { remote: "ferry", url, replaced: existing !== null, helper: helpers || "store" };
}

export const gitCommand = (io: Io, exit: Exit) =>
  defineCommand({
    meta: {
      name: "git",
      description: "Git remote and settings: git remote [--add] | git branch [name] | git link <clone URL> [--branch b] | git unlink",
    },
    args: {
      action: { type: "positional", required: true, description: "remote | branch | link | unlink" },
      arg: { type: "positional", required: false },
      add: { type: "boolean", description: "with remote: add it to this repository as `ferry`, the token kept by git's credential helper" },
      branch: { type: "string", description: "with link: the production branch (default main)" },
      project: { type: "string", description: "project (default: the one this folder deploys to)" },
      ...commonArgs,
    },
    run: async ({ args }) => {
      const action = oneOf(args.action, ["remote", "branch", "link", "unlink"], "git");
      const target = await resolveTarget(io, args);
      const client = createClient(target);
      const choice = await chooseProject(io.cwd, args.project);
      const project = choice.name;
      const print = (obj: unknown, text: string) => (args.json ? io.stdout(JSON.stringify(obj) + "\n") : io.stdout(text));
      const settings = (body?: Record<string, unknown>) =>
        (body ? client.json<GitSettings>("PUT", `/v1/projects/${encodeURIComponent(project)}/git`, body) : client.json<GitSettings>("GET", `/v1/projects/${encodeURIComponent(project)}/git`)).catch((e) => {
          throw e instanceof ApiError && e.code === "project_not_found" ? projectNotFound(choice, io.cwd) : e;
        });

      if (action === "remote") {
        const url = remoteUrlOf(target.apiUrl, project);
        if (!args.add) print({ project, url }, `${url}\n`);
        else {
          const r = await addRemote(io, io.cwd, url, target.token);
          print({ project, ...r }, `${r.replaced ? "Repointed" : "Added"} remote ferry -> ${url} (token kept by git's credential helper "${r.helper}")\nDeploy with: git push ferry main\n`);
        }
      } else if (action === "branch") {
        const s = args.arg ? await settings({ productionBranch: args.arg }) : await settings();
        print(s, `${s.productionBranch}\n`);
      } else if (action === "link") {
        if (!args.arg) throw new CliError("usage: ferry git link <clone URL> [--branch main]", "invalid_argument", 2);
        const s = await settings({ linkedUrl: args.arg, ...(args.branch ? { productionBranch: args.branch } : {}) });
        const hook = `${target.apiUrl}${s.webhookPath}`;
        print({ ...s, webhookUrl: hook }, [
          `Linked ${project} to ${s.linkedUrl} (production branch ${s.productionBranch})`,
          `Webhook URL: ${hook}  (content type application/json; events: push, pull_request)`,
          s.webhookSecret ? `Webhook secret: ${s.webhookSecret}  (shown once; GitHub/Gitea sign with it, GitLab sends it as X-Gitlab-Token)` : "Webhook secret: unchanged (set when the project was first linked)",
          "",
        ].join("\n"));
      } else {
        const s = await settings({ linkedUrl: null });
        print(s, `Unlinked ${project}\n`);
      }
      exit(0);
    },
  });
