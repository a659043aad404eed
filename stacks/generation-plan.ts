/**
 * What the stacks declare for each generation of a key ring, decided from the ledger alone. Pure
 * (no cdktf), so the rules that keep `terraform plan` free of surprises are testable on their own.
 *
 * | ledger state        | declared as                                                          |
 * |---------------------|----------------------------------------------------------------------|
 * | candidate, retiring | `aws_kms_key`, enabled                                               |
 * | active              | `aws_kms_key`, enabled, `prevent_destroy`, alias target              |
 * | disabled            | `aws_kms_key`, `is_enabled = false`                                  |
 * | pending-deletion    | no resource; a `removed { lifecycle { destroy = false } }` block:     |
 * |                     | the AWS provider reads a PendingDeletion key as gone and would        |
 * |                     | otherwise plan a brand-new key in its place                          |
 * | deleted             | nothing                                                              |
 * | abandoned           | with a deletionDate: like pending-deletion; without: declared         |
 * |                     | disabled. An abandoned key is a rolled-back candidate that nothing    |
 * |                     | was ever switched to, so disabling it is the safe, reversible choice; |
 * |                     | deleting it is left to the pipeline's approved path.                 |
 *
 * Generations whose origin is `pipeline` or `adopted` carry an import block, so Terraform adopts
 * the existing key instead of creating one (an import of an address already in state is a no-op).
 * No ledger (or one without generations) means greenfield: generation 1, a plain resource — except
 * for a key ring attached to Identity Center, whose first key always comes from the pipeline
 * (`migrate-to-cmk`, which verifies and checks it before the switch) or is adopted (`adopt`): such
 * a key ring declares nothing until its ledger has a generation. Otherwise the first apply on an
 * organization that already runs Identity Center would create a key (and an alias that already
 * exists) outside every check the pipeline makes.
 */
import { StateError } from '../pipeline/errors';
import type { Generation, Ledger } from '../pipeline/ledger/types';

export interface DeclaredKey {
  readonly kind: 'key';
  readonly generation: number;
  /** False for `disabled` (and undated `abandoned`) generations: `is_enabled = false`. */
  readonly enabled: boolean;
  /** The alias target; gets `prevent_destroy`. */
  readonly active: boolean;
  /** Key id to import from; absent for keys Terraform itself creates. */
  readonly importKeyId?: string;
  /** Known ARN (absent for a greenfield key, whose ARN Terraform learns at apply). */
  readonly keyArn?: string;
}

export interface RemovedKey {
  readonly kind: 'removed';
  readonly generation: number;
  readonly keyArn: string;
}

export type GenerationDeclaration = DeclaredKey | RemovedKey;

const GREENFIELD: readonly GenerationDeclaration[] = [{ kind: 'key', generation: 1, enabled: true, active: true }];

export interface PlanGenerationsOptions {
  /** The key ring is attached to Identity Center: no greenfield key, the pipeline makes the first one. */
  readonly firstKeyFromPipeline?: boolean;
}

export function planGenerations(keyring: string, ledger: Ledger | undefined, options: PlanGenerationsOptions = {}): readonly GenerationDeclaration[] {
  if (ledger === undefined || ledger.generations.length === 0) return options.firstKeyFromPipeline ? [] : GREENFIELD;
  assertConsistent(keyring, ledger);
  const declarations: GenerationDeclaration[] = [];
  for (const generation of [...ledger.generations].sort((a, b) => a.generation - b.generation)) {
    const declaration = declarationFor(generation);
    if (declaration) declarations.push(declaration);
  }
  return declarations;
}

function declarationFor(g: Generation): GenerationDeclaration | undefined {
  const importKeyId = g.origin === 'terraform' ? undefined : g.keyId;
  const key = (enabled: boolean, active: boolean): DeclaredKey => ({
    kind: 'key',
    generation: g.generation,
    enabled,
    active,
    keyArn: g.keyArn,
    ...(importKeyId === undefined ? {} : { importKeyId }),
  });
  switch (g.state) {
    case 'active':
      return key(true, true);
    case 'candidate':
    case 'retiring':
      return key(true, false);
    case 'disabled':
      return key(false, false);
    case 'pending-deletion':
      return { kind: 'removed', generation: g.generation, keyArn: g.keyArn };
    case 'abandoned':
      return g.deletionDate ? { kind: 'removed', generation: g.generation, keyArn: g.keyArn } : key(false, false);
    case 'deleted':
      return undefined;
  }
}

/** A ledger the stacks cannot declare faithfully is refused rather than guessed at. */
function assertConsistent(keyring: string, ledger: Ledger): void {
  const problems: string[] = [];
  const seen = new Set<number>();
  for (const g of ledger.generations) {
    if (!Number.isInteger(g.generation) || g.generation < 1) problems.push(`generation number ${g.generation} is not a positive integer`);
    if (seen.has(g.generation)) problems.push(`generation ${g.generation} appears twice`);
    seen.add(g.generation);
  }
  const active = ledger.generations.filter((g) => g.state === 'active').map((g) => g.generation);
  if (active.length > 1) problems.push(`generations ${active.join(', ')} are all active (at most one may be)`);
  if (problems.length > 0) {
    throw new StateError(`ledger of key ring "${keyring}" cannot be synthesized: ${problems.join('; ')}`, {
      fault: 'operator',
      nextStep: `inspect it with \`rotate status\` and repair the ledger of "${keyring}" before synthesizing`,
    });
  }
}

/** The active generation's declaration, if any. */
export function activeDeclaration(declarations: readonly GenerationDeclaration[]): DeclaredKey | undefined {
  return declarations.find((d): d is DeclaredKey => d.kind === 'key' && d.active);
}
