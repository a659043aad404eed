/**
 * The CDKTF app (cdktf.json runs the compiled `node dist/main.js`): load the config, read the
 * ledgers, build one stack per account+Region, synthesize. Config from $KEYROTOR_CONFIG (default
 * keyrings.json), ledgers from the file store (team mode: its ledger export in the repository, so
 * synth needs no AWS access; $KEYROTOR_STATE_DIR overrides the directory), output to $CDKTF_OUTDIR
 * (set by the cdktf CLI) or cdktf.out.
 */
import { loadConfig } from './pipeline/config/load';
import { describeError, exitCodeFor } from './pipeline/errors';
import { synthesizeStacks } from './stacks/synthesize';

async function main(): Promise<void> {
  const config = loadConfig(process.env.KEYROTOR_CONFIG ?? 'keyrings.json');
  const stateDir = process.env.KEYROTOR_STATE_DIR;
  await synthesizeStacks(config, stateDir ? { stateDirOverride: stateDir } : {});
}

main().catch((error: unknown) => {
  process.stderr.write(`${describeError(error).join('\n')}\n`);
  process.exitCode = exitCodeFor(error);
});
