/**
 * A retry's backoff wait that shutdown can cut short: writers and senders
 * that retry until they succeed or close sleep here, and close() wakes
 * them so their last attempt is made at once instead of after the wait.
 */
export class WakeableSleep {
  private wakeUp: (() => void) | undefined;

  /** Waits `ms`, or until wake(); `unref`: the wait does not hold the process open. */
  sleep(ms: number, unref = true): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      if (unref) t.unref();
      this.wakeUp = done;
    });
  }

  /** Ends the wait under way now, if any. */
  wake(): void {
    this.wakeUp?.();
  }
}
