/**
 * Builds the synth manifest (pipeline/gitops/synth-manifest.ts) of a key stack from what the
 * stack declared, and writes it next to the stack's cdk.tf.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ledgerDigest, SYNTH_MANIFEST_FILE, SYNTH_MANIFEST_FORMAT, type SynthManifest, type SynthManifestKeyring } from '../pipeline/gitops/synth-manifest';
import type { KeyStack } from './key-stack';
import type { ManagedKey } from './managed-key';
import { aliasLogicalId, generationAddress, identityCenterLogicalId } from './naming';
import { regionalAliasLogicalId, replicaAddress } from './replica-keys';

export function synthManifestOf(stack: KeyStack): SynthManifest {
  return {
    format: SYNTH_MANIFEST_FORMAT,
    version: 1,
    stack: stack.node.id,
    account: stack.account,
    region: stack.region,
    keyrings: stack.managedKeys.map((mk) => keyringEntry(stack, mk)),
  };
}

function keyringEntry(stack: KeyStack, mk: ManagedKey): SynthManifestKeyring {
  const { keyring, ledger } = mk;
  const hasGenerations = (ledger?.generations.length ?? 0) > 0;
  const declared = new Map(mk.declarations.map((d) => [d.generation, d.kind]));
  const ic = stack.identityCenter.find((c) => c.keyring === keyring.name);
  const replicas = stack.replicaKeys.find((r) => r.managedKey === mk);
  return {
    name: keyring.name,
    alias: keyring.alias,
    ledger: ledger ? { version: ledger.version, digest: ledgerDigest(ledger) } : null,
    greenfield: !hasGenerations && mk.declarations.length > 0,
    awaitingPipeline: !hasGenerations && mk.declarations.length === 0,
    greenfieldAddress: !hasGenerations && mk.declarations.length > 0 ? generationAddress(keyring.name, 1) : null,
    generations: [...(ledger?.generations ?? [])]
      .sort((a, b) => a.generation - b.generation)
      .map((g) => ({
        generation: g.generation,
        state: g.state,
        keyArn: g.keyArn,
        address: generationAddress(keyring.name, g.generation),
        declaredAs: declared.get(g.generation) ?? 'none',
      })),
    aliasAddress: `aws_kms_alias.${aliasLogicalId(keyring.name)}`,
    aliasDeclared: mk.alias !== undefined,
    replicas: (replicas?.declarations ?? []).map((d) => ({
      generation: d.generation,
      region: d.region,
      address: replicaAddress(keyring.name, d.generation, d.region),
      declaredAs: d.kind === 'removed-replica' ? ('removed' as const) : ('replica' as const),
      greenfield: d.kind === 'replica' && d.keyArn === undefined,
      keyArn: d.keyArn ?? null,
    })),
    regionalAliases: [...(replicas?.aliases.keys() ?? [])].sort().map((region) => ({ region, address: `aws_kms_alias.${regionalAliasLogicalId(keyring.name, region)}` })),
    identityCenter: keyring.identityCenter
      ? {
          address: `terraform_data.${identityCenterLogicalId(keyring.name)}`,
          instanceArn: keyring.identityCenter.instanceArn,
          // What the stack declares is the ledger's recorded target (see KeyStack); here as a literal ARN.
          target: ic && ledger?.identityCenter ? ledger.identityCenter : null,
        }
      : null,
  };
}

/** Writes `<outdir>/stacks/<stack>/keyrotor-synth.json`. */
export function writeSynthManifest(outdir: string, stack: KeyStack): string {
  const file = path.join(outdir, 'stacks', stack.node.id, SYNTH_MANIFEST_FILE);
  fs.writeFileSync(file, `${JSON.stringify(synthManifestOf(stack), null, 2)}\n`);
  return file;
}
