/**
 * `rotate audit verify`: walks the hash-chained audit log of the configured state store and says
 * whether it is intact (exit 0) or where it first breaks and why (exit 1). Then it checks the
 * anchors: every approval recorded with a run signed the audit head its approver saw, and the chain
 * must still hold that hash at that seq — so a chain recomputed wholesale is caught — and each run
 * must agree with what the chain recorded about it. With `--state-dir` it verifies that file store
 * directly and needs no config, so an auditor can check a copied state directory. It never loads
 * the AWS clients of the pipeline.
 */
import * as path from 'node:path';
import { ExitCode } from '../../../pipeline/errors';
import { openStateStore } from '../../../pipeline/state/open';
import type { AuditVerification, StateStore } from '../../../pipeline/state/types';
import { verifyApprovalAnchors, type AnchorReport } from '../../../pipeline/approvals/audit-anchors';
import type { CliContext, CommandRun } from '../context';
import { emitJson } from '../json/output';

export const run: CommandRun = async (ctx) => {
  const store = await storeFor(ctx);
  try {
    const result = await store.verifyAudit();
    const approvals = await verifyApprovalAnchors(store, { env: ctx.env });
    if (ctx.global.json) emitJson(ctx, { ok: result.ok, entries: result.entries, ...(result.problem ? { problem: result.problem } : {}), approvals, store: store.description });
    else {
      report(ctx, result, store.description);
      reportAnchors(ctx, approvals);
    }
    return result.ok && approvals.problems.length === 0 ? ExitCode.ok : ExitCode.notSatisfied;
  } finally {
    await store.close();
  }
};

/** A copied state directory (`--state-dir`) needs no config; else the config's store, with its own credentials in team mode. */
async function storeFor(ctx: CliContext): Promise<StateStore> {
  if (ctx.global.stateDir !== undefined) return openStateStore({ type: 'file', dir: path.resolve(ctx.cwd, ctx.global.stateDir) });
  const { loadConfig } = await import('../../../pipeline/config/load');
  const { openStoreFor } = await import('../store-session');
  return openStoreFor(ctx, loadConfig(ctx.global.config));
}

function report(ctx: CliContext, result: AuditVerification, where: string): void {
  if (result.ok) {
    ctx.io.out(`audit chain intact: ${result.entries} entries (${where})`);
    return;
  }
  const problem = result.problem!;
  ctx.io.out(`audit chain BROKEN at entry ${problem.seq} of ${result.entries}: ${problem.reason} (${where})`);
  ctx.io.err(
    'next: do not trust entries from that point on; restore the audit log from version control or a backup and compare, then run `rotate audit verify` again',
  );
}

function reportAnchors(ctx: CliContext, anchors: AnchorReport): void {
  if (anchors.problems.length === 0) {
    if (anchors.checked > 0) ctx.io.out(`approval anchors intact: ${anchors.checked} signed audit head${anchors.checked === 1 ? '' : 's'} found in the chain`);
    return;
  }
  ctx.io.out(`approval anchors BROKEN: ${anchors.problems.length} problem${anchors.problems.length === 1 ? '' : 's'} (${anchors.checked} signed audit heads checked):`);
  for (const p of anchors.problems) ctx.io.out(`  run ${p.runId}: ${p.reason}`);
  ctx.io.err('next: the chain or a run record was rewritten; restore the state from version control or a backup and compare, then run `rotate audit verify` again');
}
