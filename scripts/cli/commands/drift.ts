/**
 * `rotate drift [KEYRING…] [--synth-dir DIR] [--deploy-gate] [--read-only] [--json]` — live AWS
 * against the config and the latest ledger (pipeline/drift). Exit 0: no drift; 1: drift; 2: an
 * operator error (unknown key ring, wrong account's credentials, bad synth dir); 3: AWS could not
 * be read (retry). With --json, stdout is the DriftReport (pipeline/drift/types.ts, `version` 1).
 *
 * --synth-dir DIR: also check that the stacks in DIR (a synth output or one stack directory) were
 *   synthesized from the latest ledgers; without KEYRING, check the key rings of those stacks.
 * --deploy-gate: only drift a deploy must not run over counts (what the pipeline owns, and a stale
 *   synth); Terraform-owned drift is reported but is what the apply converges.
 * --read-only: do not move past-date generations to `deleted` (the deploy's checks write nothing).
 */
import * as path from 'node:path';
import type { CommandRun } from '../context';
import { describeDriftReport } from '../../../pipeline/drift/describe';
import { runDrift } from '../../../pipeline/drift/run-drift';
import { readSynthManifests } from '../../../pipeline/gitops/synth-manifest';
import { openSession } from '../session';

interface DriftCommandOptions {
  readonly synthDir?: string;
  readonly deployGate?: boolean;
  readonly readOnly?: boolean;
}

export const run: CommandRun = async (ctx, rawOptions, args) => {
  const options = rawOptions as DriftCommandOptions; // shape fixed by the option definitions in main.ts
  const manifests = options.synthDir ? readSynthManifests(path.resolve(ctx.cwd, options.synthDir)) : undefined;
  const session = await openSession(ctx);
  try {
    // Which AWS it reads, said first (each account and Region the selection spans).
    for (const keyring of session.config.keyrings.filter((k) => args.length === 0 || args.includes(k.name))) await session.announce(keyring).catch(() => undefined);
    const report = await runDrift(
      { config: session.config, store: session.store, clientsFor: session.clientsFor, clientsForRegion: session.clientsForRegion, actor: session.actorFor },
      { keyrings: args, ...(manifests ? { manifests } : {}), readOnly: options.readOnly ?? false, deployGate: options.deployGate ?? false },
    );
    if (ctx.global.json) {
      const { emitJson } = await import('../json/output');
      emitJson(ctx, report);
    }
    else for (const line of describeDriftReport(report, { deployGate: options.deployGate ?? false })) ctx.io.out(line);
    return report.exitCode;
  } finally {
    await session.close();
  }
};
