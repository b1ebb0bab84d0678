import { FerryError } from "../../core/errors.ts";
import type { AuthContext } from "./tokens.ts";
import type { ApiDeps } from "../types.ts";

/** Lists and deletes provisioned data stores. Removing a deployment never touches them. */
export function storeService(deps: ApiDeps) {
  async function list(auth: AuthContext, project?: string) {
    const records = await deps.metadata.listStores(auth.accountId, project);
    return Promise.all(
      records.map(async (r) => {
        const usage = deps.stores
          ? await deps.stores.usage({ ...r, env: {} }).catch(() => null)
          : null;
        return { project: r.project, name: r.name, type: r.type, environment: r.environment, resource: r.resource, createdAt: r.createdAt, items: usage?.items ?? null, bytes: usage?.bytes ?? null };
      }),
    );
  }

  async function remove(auth: AuthContext, project: string, name: string, environment: string | undefined) {
    if (environment !== "production" && environment !== "preview") {
      throw new FerryError("invalid_environment", `say which store to delete: environment must be "production" or "preview"`, 400);
    }
    const r = (await deps.metadata.listStores(auth.accountId, project)).find((s) => s.name === name && s.environment === environment);
    if (!r) throw new FerryError("store_not_found", `no ${environment} store ${JSON.stringify(name)} in ${project}`, 404);
    if (!deps.stores) throw new FerryError("stores_unavailable", "this platform has no data store provisioner configured", 400);
    await deps.stores.destroy({ ...r, env: {} });
    await deps.metadata.deleteStore(auth.accountId, project, environment, name);
    return { project, name, environment, resource: r.resource, removed: true };
  }

  return { list, remove };
}
