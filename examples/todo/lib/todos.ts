import { randomBytes } from "node:crypto";

export interface Todo {
  id: string;
  title: string;
  done: boolean;
  createdAt: number;
}

// Every todo lives in one partition, sorted by id; fine for a demo-sized list.
export const PARTITION = "TODO";

let lastMs = 0;
let seq = 0;

/**
 * Ids sort by creation time, so a query lists oldest first: milliseconds, then a counter for
 * ids made in the same millisecond by this instance, then randomness against other instances.
 */
export function newId(): string {
  const now = Date.now();
  seq = now === lastMs ? seq + 1 : 0;
  lastMs = now;
  return now.toString(36).padStart(9, "0") + seq.toString(36).padStart(3, "0") + randomBytes(4).toString("hex");
}

export const validId = (id: string | undefined): id is string => !!id && /^[a-z0-9]{1,64}$/.test(id);

/** The stored item without its key attributes. */
export const toTodo = (item: Record<string, unknown>): Todo => ({
  id: String(item.id),
  title: String(item.title),
  done: Boolean(item.done),
  createdAt: Number(item.createdAt),
});

export const jsonError = (status: number, message: string) => Response.json({ error: message }, { status });
