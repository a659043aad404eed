import type { Config } from '../pipeline/config/types';
import type { Ledger } from '../pipeline/ledger/types';
import { openStateStore } from '../pipeline/state/open';
import type { StateStore } from '../pipeline/state/types';
import { buildApp, keyStacksOf, pipelineStackOf, type BuildAppOptions } from './app';
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

/** The ledgers of the config's key rings (a key ring without one is greenfield). */
export async function readLedgers(store: StateStore, config: Config): Promise<Map<string, Ledger>> {
  const ledgers = new Map<string, Ledger>();
  for (const keyring of config.keyrings) {
    const ledger = await store.getLedger(keyring.name);
    if (ledger) ledgers.set(keyring.name, ledger);
  }
  return ledgers;
}

/** Reads the ledgers, builds the app and writes cdk.tf.json per stack (plus the manifest). Shared by main.ts and `rotate synth`. */
export async function synthesizeStacks(config: Config, options: SynthesizeOptions = {}): Promise<SynthesizeResult> {
  const store = await openStateStore(config.state, options.stateDirOverride === undefined ? {} : { stateDirOverride: options.stateDirOverride });
  let ledgers: Map<string, Ledger>;
  try {
    ledgers = await readLedgers(store, config);
  } finally {
    await store.close();
  }
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
  const pipeline = pipelineStackOf(app);
  return { outdir: app.outdir, stacks: [...keyStacks, ...(pipeline ? [pipeline] : [])].map((s) => s.node.id), awaitingPipeline };
}
