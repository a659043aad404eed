/**
 * The synth manifest: what one synthesized stack was built from, written next to its
 * `cdk.tf.json` as `keyrotor-synth.json` (Terraform reads only `*.tf.json`, so it ignores it).
 *
 * It is the contract between the synth and the GitOps checks that run later, elsewhere:
 *  - the deploy refuses to plan or apply when the ledgers the stack was synthesized from are no
 *    longer the latest in the state store (`rotate drift --synth-dir`);
 *  - the plan guard (`rotate plan-guard`) reads from it which Terraform addresses are the key
 *    ring's generations, their replicas, its aliases (one per Region) and its Identity Center
 *    setting, and what the ledger says about each — without guessing from resource names.
 *
 * Deterministic (no timestamps, no absolute paths): synthesizing the same config and ledgers twice
 * gives byte-identical output, on any machine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { digestOf } from '../canonical-json';
import { KeyrotorError } from '../errors';
import { parseJsonDocument } from './json-document';
import type { Ledger } from '../ledger/types';

export const SYNTH_MANIFEST_FILE = 'keyrotor-synth.json';
export const SYNTH_MANIFEST_FORMAT = 'keyrotor-synth-manifest';

const generationState = z.enum(['candidate', 'active', 'retiring', 'disabled', 'pending-deletion', 'deleted', 'abandoned']);
const identityCenterTarget = z.discriminatedUnion('keyType', [
  z.strictObject({ keyType: z.literal('AWS_OWNED_KMS_KEY') }),
  z.strictObject({ keyType: z.literal('CUSTOMER_MANAGED_KEY'), kmsKeyArn: z.string().min(1) }),
]);

const manifestGeneration = z.strictObject({
  generation: z.number().int().positive(),
  state: generationState,
  keyArn: z.string().min(1),
  /** `aws_kms_key.<keyring>_key_gen<N>`, whether or not the stack declares it now. */
  address: z.string().min(1),
  /** How the stack declares it: a key resource, a `removed` block, or not at all (deleted). */
  declaredAs: z.enum(['key', 'removed', 'none']),
});

const manifestReplica = z.strictObject({
  generation: z.number().int().positive(),
  region: z.string().min(1),
  /** `aws_kms_replica_key.<keyring>_key_gen<N>_<region>`. */
  address: z.string().min(1),
  /** A replica resource, or a `removed` block (the ledger has it pending deletion, or its generation left). */
  declaredAs: z.enum(['replica', 'removed']),
  /** Terraform creates it, with the greenfield generation 1 (no ledger yet). */
  greenfield: z.boolean(),
  /** Known from the ledger; null for a replica Terraform has yet to create. */
  keyArn: z.string().min(1).nullable(),
});

const manifestRegionalAlias = z.strictObject({
  region: z.string().min(1),
  /** `aws_kms_alias.<keyring>_alias_<region>`: the alias in a replica Region, on the active generation's replica. */
  address: z.string().min(1),
});

const manifestKeyring = z.strictObject({
  name: z.string().min(1),
  alias: z.string().min(1),
  /** The ledger the stack followed: its version and the digest of its canonical JSON; null when there was none. */
  ledger: z.strictObject({ version: z.number().int().nonnegative(), digest: z.string().regex(/^[0-9a-f]{64}$/) }).nullable(),
  /** No generation in the ledger and not attached to Identity Center: Terraform creates generation 1. */
  greenfield: z.boolean(),
  /** Attached to Identity Center with no generation yet: nothing is declared until the pipeline adopts or creates the first key. */
  awaitingPipeline: z.boolean(),
  /** Address of generation 1 in a greenfield key ring (the one key Terraform may create). */
  greenfieldAddress: z.string().min(1).nullable(),
  generations: z.array(manifestGeneration),
  /** `aws_kms_alias.<keyring>_alias`, declared or not. */
  aliasAddress: z.string().min(1),
  /** The stack declares the alias (on the ledger's active generation, or on generation 1 when greenfield). */
  aliasDeclared: z.boolean(),
  /** Multi-Region key rings: every replica the stack declares or drops (none for single-Region ones). */
  replicas: z.array(manifestReplica).default([]),
  /** Multi-Region key rings: the alias in each replica Region. */
  regionalAliases: z.array(manifestRegionalAlias).default([]),
  /**
   * For a key ring attached to Identity Center: the `terraform_data` address and the target the
   * stack declares there — only ever the ledger's recorded target; null target: nothing declared.
   */
  identityCenter: z
    .strictObject({ address: z.string().min(1), instanceArn: z.string().min(1), target: identityCenterTarget.nullable() })
    .nullable(),
});

export const synthManifestSchema = z.strictObject({
  format: z.literal(SYNTH_MANIFEST_FORMAT),
  version: z.literal(1),
  stack: z.string().min(1),
  account: z.string().regex(/^\d{12}$/),
  region: z.string().min(1),
  keyrings: z.array(manifestKeyring),
});

export type SynthManifest = z.infer<typeof synthManifestSchema>;
export type SynthManifestKeyring = z.infer<typeof manifestKeyring>;
export type SynthManifestGeneration = z.infer<typeof manifestGeneration>;
export type SynthManifestReplica = z.infer<typeof manifestReplica>;

/** The digest the manifest records for a ledger (any change to it, version included, changes the digest). */
export function ledgerDigest(ledger: Ledger): string {
  return digestOf(ledger);
}

export class SynthManifestError extends KeyrotorError {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`, {
      fault: 'operator',
      nextStep: 'synthesize again with this version of keyrotor (`rotate synth`) and use that output',
    });
  }
}

/** Reads and validates one manifest file. */
export function readSynthManifest(file: string): SynthManifest {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new SynthManifestError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); is this a stack directory written by \`rotate synth\`?`);
  }
  return parseJsonDocument(text, synthManifestSchema, 'a keyrotor synth manifest', (problem) => new SynthManifestError(file, problem));
}

/**
 * The manifests under `dir`: `dir` itself when it is a stack directory (holds the manifest),
 * else every `stacks/<stack>/` of a synth output directory. Refuses a directory with none.
 */
export function readSynthManifests(dir: string): SynthManifest[] {
  const own = path.join(dir, SYNTH_MANIFEST_FILE);
  if (fs.existsSync(own)) return [readSynthManifest(own)];
  const stacksDir = path.join(dir, 'stacks');
  const stacks = fs.existsSync(stacksDir) ? fs.readdirSync(stacksDir).sort() : [];
  const files = stacks.map((s) => path.join(stacksDir, s, SYNTH_MANIFEST_FILE)).filter((f) => fs.existsSync(f));
  if (files.length === 0) {
    throw new SynthManifestError(dir, `holds no ${SYNTH_MANIFEST_FILE} (neither a stack directory nor a synth output with stacks/<stack>/)`);
  }
  return files.map(readSynthManifest);
}
