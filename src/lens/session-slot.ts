/**
 * The one ONNX session a LensModel keeps: each holds the model's weights, so only the latest lens
 * configuration has one. Switching configurations retires the old session, released as soon as no
 * profile() call still runs on it. The bookkeeping is synchronous, so concurrent calls share one
 * build of a configuration and never lose track of a session.
 */
import type { GraphSession } from '../runtime/session.js';

/** A session and how many profile() calls are running on it. */
interface SessionEntry {
  key: string;
  session: Promise<GraphSession>;
  users: number;
  /** Replaced by another configuration: released when its last user finishes. */
  retired: boolean;
  released: boolean;
}

/** A session in use by one profile() call; `release` when the call ends. */
export interface SessionLease {
  session: Promise<GraphSession>;
  release(): Promise<void>;
}

/** Release a replaced session now, or mark it for release when its last profile() call ends. */
async function retire(entry: SessionEntry): Promise<void> {
  entry.retired = true;
  if (entry.users > 0) return;
  let session: GraphSession;
  try {
    session = await entry.session;
  } catch {
    return; // it never started: nothing to release
  }
  if (entry.users === 0 && !entry.released) {
    entry.released = true;
    await session.release();
  }
}

export class SessionSlot {
  private current: SessionEntry | undefined;

  /**
   * The session for configuration `key`: the current one when it matches, else one opened by
   * `open` once the current one is retired (so that at most one set of weights is loaded, unless
   * the old session is still in use).
   */
  get(key: string, open: () => Promise<GraphSession>): Promise<GraphSession> {
    return this.entry(key, open).session;
  }

  /**
   * As get(), counted as a user at once: a concurrent switch to another configuration cannot
   * release the session before release() is called.
   */
  acquire(key: string, open: () => Promise<GraphSession>): SessionLease {
    const entry = this.entry(key, open);
    entry.users += 1;
    return {
      session: entry.session,
      release: async () => {
        entry.users = Math.max(0, entry.users - 1);
        if (entry.retired && entry.users === 0) await retire(entry);
      },
    };
  }

  /** Release the current session, whoever still uses it. */
  async close(): Promise<void> {
    const entry = this.current;
    this.current = undefined;
    if (entry) {
      entry.users = 0; // close() ends every use
      await retire(entry);
    }
  }

  private entry(key: string, open: () => Promise<GraphSession>): SessionEntry {
    if (this.current?.key === key) return this.current;
    const old = this.current;
    const session = (async (): Promise<GraphSession> => {
      if (old) await retire(old); // before building: at most one set of weights, unless old is in use
      return open();
    })();
    this.current = { key, session, users: 0, retired: false, released: false };
    return this.current;
  }
}
