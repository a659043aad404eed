import type { Config } from '../pipeline/config/types';
import { readLedgersForSynth } from '../pipeline/team/ledger-export';
import { buildApp, keyStacksOf, type BuildAppOptions } from './app';
import { writeSynthManifest } from './synth-manifest';
import { assertPortableOutput } from './identity-center-encryption';

export interface SynthesizeOptions extends BuildAppOptions {
  /** File-store directory to read ledgers from, whatever the config says (--state-dir, $KEYROTOR_STATE_DIR). */
  readonly stateDirOverride?: string;
}

export interface SynthesizeResult {
  readonly outdir: string;
  /** Stack names written, in order. */
  readonly stacks: readonly string[];
  /**
   * Key rings attached to Identity Center that declare nothing yet: their first key comes from the
   * pipeline (`rotate start <name> --kind migrate-to-cmk`, or `--kind adopt` for an existing key).
   */
  readonly awaitingPipeline: readonly string[];
}

/** Reads the ledgers, builds the app and writes cdk.tf.json per stack (plus the manifest). Shared by main.ts and `rotate synth`. */
export async function synthesizeStacks(config: Config, options: SynthesizeOptions = {}): Promise<SynthesizeResult> {
  // No AWS access: team mode reads the ledger export in the repository (pipeline/team/ledger-export.ts).
  const ledgers = await readLedgersForSynth(config, options.stateDirOverride);
  const app = buildApp(config, ledgers, options);
  const keyStacks = keyStacksOf(app);
  if (options.identityCenterHelperCommand === undefined) {
    assertPortableOutput(app.outdir, keyStacks.filter((s) => s.identityCenter.length > 0).map((s) => s.node.id));
  }
  app.synth();
  const awaitingPipeline: string[] = [];
  for (const stack of keyStacks) {
    writeSynthManifest(app.outdir, stack);
    for (const mk of stack.managedKeys) if (mk.declarations.length === 0 && (mk.ledger?.generations.length ?? 0) === 0) awaitingPipeline.push(mk.keyring.name);
  }
  // Team mode's pipeline stack is not among them: `rotate bootstrap` writes it (buildBootstrapApp).
  return { outdir: app.outdir, stacks: keyStacks.map((s) => s.node.id), awaitingPipeline };
}
