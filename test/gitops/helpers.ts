import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../pipeline/config/load';
import type { Config } from '../../pipeline/config/types';
import type { SynthManifest } from '../../pipeline/gitops/synth-manifest';
import type { Ledger } from '../../pipeline/ledger/types';
import { buildApp, keyStacksOf } from '../../stacks/app';
import { synthManifestOf } from '../../stacks/synth-manifest';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const PLAN_FIXTURES = path.join(__dirname, 'fixtures', 'plans');

/** The example keyrings.json: identity-center (attached) in 111111111111/us-east-1, org-audit-logs in eu-west-1, … */
export function exampleConfig(): Config {
  return loadConfig(path.join(REPO_ROOT, 'keyrings.json'));
}

/** The synth manifest the real stacks write for `stack`, built in memory from `ledgers`. */
export function manifestFor(stack: string, ledgers: readonly Ledger[], config: Config = exampleConfig()): SynthManifest {
  const app = buildApp(config, new Map(ledgers.map((l) => [l.keyring, l])), {
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-gitops-')),
    identityCenterHelperCommand: ['node', 'helper.js'],
  });
  const found = keyStacksOf(app).find((s) => s.node.id === stack);
  if (!found) throw new Error(`no stack ${stack} in the example config`);
  return synthManifestOf(found);
}

export function fixtureText(name: string): string {
  return fs.readFileSync(path.join(PLAN_FIXTURES, name), 'utf8');
}

/** The ledger a fixture scenario synthesized from, when it has one. */
export function fixtureLedger(scenario: string): Ledger | undefined {
  const file = path.join(PLAN_FIXTURES, `${scenario}.ledger.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Ledger) : undefined;
}
