import { stat } from "node:fs/promises";

/** Whether anything is at `path` (file, folder or link target). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
