import { accessOf } from '../pipeline/config/access';
import { ConfigError } from '../pipeline/errors';
import type { Config, KeyRingConfig } from '../pipeline/config/types';
import type { Ledger } from '../pipeline/ledger/types';
import { App } from './cdktf';
import { KeyStack } from './key-stack';
import { PipelineStack } from './pipeline-stack';

export interface BuildAppOptions {
  /** Synth output directory. Default: $CDKTF_OUTDIR, else `cdktf.out` (cdktf's own rule). */
  readonly outdir?: string;
  /** argv prefix of the Identity Center helper (tests point it elsewhere). */
  readonly identityCenterHelperCommand?: readonly string[];
}

/**
 * The CDKTF app for a config and its ledgers: one KeyStack per account+Region that has key rings,
 * in a stable order (account, then Region). Shared by main.ts, `rotate synth` and tests. (Team
 * mode's pipeline stack is buildBootstrapApp's.)
 */
export function buildApp(config: Config, ledgers: ReadonlyMap<string, Ledger>, options: BuildAppOptions = {}): App {
  // skipValidation: cdktf's validations would run the synth machine's `terraform version` (for
  // import blocks and terraform_data), failing wherever no Terraform is installed — the deploy's
  // synth job, a laptop — and checking the wrong binary anyway. The stacks declare what they need
  // in `required_version` (stacks/terraform-version.ts), which the Terraform that plans enforces.
  // (The other cdktf validation, a provider per stack, holds by construction: every stack declares one.)
  const app = new App({ skipValidation: true, ...(options.outdir === undefined ? {} : { outdir: options.outdir }) });
  const groups = groupByAccountAndRegion(config.keyrings);
  const access = accessOf(config);
  for (const group of groups) {
    const terraformRole = access?.accounts[group.account]?.terraformRole;
    new KeyStack(app, {
      ...(terraformRole ? { terraformRole } : {}),
      ...(access?.backendRole ? { backendRole: access.backendRole } : {}),
      account: group.account,
      region: group.region,
      keyrings: group.keyrings,
      ledgers,
      backend: config.backend,
      monitoring: config.monitoring,
      identityCenterHelperCommand: options.identityCenterHelperCommand,
      // Multi-Region key rings: replica Regions that have a stack of their own are monitored by it.
      regionsWithOwnStack: groups.filter((g) => g.account === group.account && g.region !== group.region).map((g) => g.region),
    });
  }
  return app;
}

/**
 * Team mode's bootstrap app: the pipeline stack alone (state table, CI identity, pipeline roles),
 * which an administrator applies once (`rotate bootstrap`). Kept out of buildApp so the deploy
 * workflow, acting as the CI identity, never plans the roles it acts through (nor could it: their
 * providers assume the administrator's bootstrap role).
 */
export function buildBootstrapApp(config: Config, options: Pick<BuildAppOptions, 'outdir'> = {}): App {
  if (!config.pipeline) {
    throw new ConfigError(config.file, ['pipeline: is not declared, so there is no team-mode infrastructure to bootstrap'], 'add a `pipeline` section (README "Team mode"), then run `rotate bootstrap` again');
  }
  // skipValidation: as buildApp's (no Terraform binary where synth runs).
  const app = new App({ skipValidation: true, ...(options.outdir === undefined ? {} : { outdir: options.outdir }) });
  new PipelineStack(app, { config });
  return app;
}

export interface KeyRingGroup {
  readonly account: string;
  readonly region: string;
  readonly keyrings: readonly KeyRingConfig[];
}

export function groupByAccountAndRegion(keyrings: readonly KeyRingConfig[]): KeyRingGroup[] {
  const groups = new Map<string, { account: string; region: string; keyrings: KeyRingConfig[] }>();
  for (const keyring of keyrings) {
    const id = `${keyring.account}/${keyring.region}`;
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { account: keyring.account, region: keyring.region, keyrings: [] }));
    group.keyrings.push(keyring);
  }
  return [...groups.values()].sort((a, b) => a.account.localeCompare(b.account) || a.region.localeCompare(b.region));
}

/** The team-mode stack of an app built by buildApp, when the config has a `pipeline` section. */
export function pipelineStackOf(app: App): PipelineStack | undefined {
  return app.node.children.find((c): c is PipelineStack => c instanceof PipelineStack);
}

/** The key stacks of an app built by buildApp, in declaration order. */
export function keyStacksOf(app: App): KeyStack[] {
  return app.node.children.filter((c): c is KeyStack => c instanceof KeyStack);
}
