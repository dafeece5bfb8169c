// One session kept warm per key (the loaded model it belongs to): the same key gets the same session, another
// key releases the old one first, a session that failed to open is forgotten. The worker's logits session
// (attribution) and its generation session (the answer strip) live in one each.
export class WarmSlot<K, S> {
  private current: { readonly key: K; readonly session: Promise<S> } | null = null;

  constructor(private readonly dispose: (session: S) => Promise<void>) {}

  async get(key: K, open: () => Promise<S>): Promise<S> {
    if (this.current?.key === key) return this.current.session;
    await this.release();
    const entry = { key, session: open() };
    this.current = entry;
    entry.session.catch(() => {
      if (this.current === entry) this.current = null;
    });
    return entry.session;
  }

  async release(): Promise<void> {
    const entry = this.current;
    this.current = null;
    const session = await entry?.session.catch(() => null);
    if (session) await this.dispose(session);
  }
}
