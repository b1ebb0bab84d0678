import type { Deployment } from "../../core/types.ts";
import type { ApiDeps } from "../types.ts";

/** The public JSON shape of a deployment, as the API returns it and `ferry --json` prints it. */
export function presentDeployment(d: Deployment, deps: Pick<ApiDeps, "urlFor">, aliases: string[] = []) {
  return {
    id: d.id,
    url: deps.urlFor(d.host),
    host: d.host,
    state: d.state,
    project: d.project,
    target: d.target,
    aliases: aliases.map((a) => deps.urlFor(a)),
    fileCount: d.fileCount,
    createdAt: d.createdAt,
    buildingAt: d.buildingAt,
    readyAt: d.readyAt,
    ...(d.errorMessage ? { errorCode: d.errorCode, errorMessage: d.errorMessage } : {}),
    ...(d.reusedFrom ? { reusedFrom: d.reusedFrom } : {}),
    ...(d.git ? { git: d.git } : {}),
  };
}
