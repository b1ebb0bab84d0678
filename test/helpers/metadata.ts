import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDocClient, ensureTable } from "../../core/metadata/table.ts";
import { createMetadata, type Metadata } from "../../core/metadata/repository.ts";
import { localAwsConfig, startDynalite } from "../../server/services/dynalite.ts";

/** A metadata repository on a fresh dynalite (in memory, or persisted under a temp folder). */
export async function dynaliteMetadata(opts: { persisted?: boolean; path?: string } = {}): Promise<{ metadata: Metadata; path?: string; end: () => Promise<void> }> {
  const path = opts.path ?? (opts.persisted ? await mkdtemp(join(tmpdir(), "ferry-dynalite-")) : undefined);
  const dyn = await startDynalite({ path });
  const doc = createDocClient(localAwsConfig(dyn.endpoint));
  await ensureTable(doc, "ferry");
  return {
    metadata: createMetadata(doc, "ferry"),
    path,
    end: async () => {
      doc.destroy();
      await dyn.end();
    },
  };
}
