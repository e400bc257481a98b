/** A full garbage collection on demand. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let fullGc: (() => void) | undefined;

/**
 * V8's full collection of the calling thread's heap, without `node
 * --expose-gc`: the flag set at run time exposes `gc` to contexts created
 * after it (taken from one such context, then the flag is reset so no other
 * context sees it).
 */
export function fullCollection(): void {
  if (!fullGc) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) fullGc = exposed;
    else {
      setFlagsFromString('--expose-gc');
      fullGc = runInNewContext('gc') as () => void;
      setFlagsFromString('--no-expose-gc');
    }
  }
  fullGc();
}
