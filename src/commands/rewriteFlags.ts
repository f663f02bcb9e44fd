/** The rewrite limits as flags (--include-loopback, --only-…), shared by `hba` and `enable`. */
import type { RewriteOptions } from '../hba/rewrite.js';

export interface HbaRewriteFlags {
  includeLoopback?: boolean;
  skipReplication?: boolean;
  onlyDb?: string[];
  onlyUser?: string[];
  onlyAddress?: string[];
}

export function rewriteOptions(flags: HbaRewriteFlags): RewriteOptions {
  return {
    includeLoopback: flags.includeLoopback,
    skipReplication: flags.skipReplication,
    databases: flags.onlyDb?.length ? flags.onlyDb : undefined,
    users: flags.onlyUser?.length ? flags.onlyUser : undefined,
    addresses: flags.onlyAddress?.length ? flags.onlyAddress : undefined,
  };
}
