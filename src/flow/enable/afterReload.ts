/**
 * A check whose new sessions also prove the reload before it (reloadAndWait
 * watched only our own session). A failure is believed only after a new
 * session has confirmed that the server runs the reloaded configuration and
 * the check has run again: never undo because a reload was still under way.
 */
import type { ConnectionTarget } from '../../server/connectionTarget.js';
import { confirmReload, type Reload } from '../../server/reload.js';

export async function afterReload<T>(reload: Reload | undefined, target: ConnectionTarget, ok: (result: T) => boolean, check: () => Promise<T>): Promise<T> {
  const result = await check();
  if (ok(result) || !reload) return result;
  await confirmReload(target, reload.loadedBefore);
  return check();
}
