/**
 * Named locks in this process: `acquire(key)` resolves once every earlier holder of the key has
 * released it, in order of asking. Used so two pushes to one branch deploy one after the other.
 */
export function createLocks() {
  const tails = new Map<string, Promise<void>>();
  return {
    async acquire(key: string): Promise<() => void> {
      const previous = tails.get(key) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((r) => (release = r));
      const tail = previous.then(() => mine);
      tails.set(key, tail);
      await previous;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release();
        if (tails.get(key) === tail) tails.delete(key);
      };
    },
  };
}
export type Locks = ReturnType<typeof createLocks>;
