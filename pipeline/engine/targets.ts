/**
 * The key a run acts on when it is not the active one (`cancel-deletion`, `retire-key`), checked
 * before any run opens: it must be a generation of the key ring, in a state the kind accepts, and
 * named by generation number, key ARN or bare key id (normalized to the ledger's ARN). A mistake
 * here is an operator error that opens no run and takes no lease, so the emergency path
 * (`cancel-deletion`) is never blocked by a typo.
 */
import type { KeyRingConfig } from '../config/types';
import { KeyrotorError } from '../errors';
import type { Generation, GenerationState, Ledger } from '../ledger/types';
import type { StartableKind } from './stage-lists';

export interface TargetSelector {
  /** Key ARN or bare key id. */
  readonly key?: string;
  /** Generation number, as typed. */
  readonly generation?: string;
  /** cancel-deletion: enable the key after cancelling. */
  readonly enable?: boolean;
}

export interface RunTarget {
  readonly keyArn: string;
  readonly enable?: boolean;
}

/** The generation states each targeted kind accepts, and why. */
const ACCEPTED: Partial<Record<StartableKind, { readonly states: readonly GenerationState[]; readonly why: string }>> = {
  'cancel-deletion': { states: ['pending-deletion', 'disabled'], why: 'only a key pending deletion (or left disabled by an earlier cancel) can be restored' },
  'retire-key': { states: ['abandoned', 'retiring', 'disabled'], why: 'only a generation nothing uses any more can be retired' },
};

function operatorError(message: string, nextStep: string): KeyrotorError {
  return new KeyrotorError(message, { fault: 'operator', nextStep });
}

/**
 * Validates the selector for `kind` and returns the target, or undefined for kinds that act on the
 * active generation. Throws an operator error (exit 2) naming the flag and the fix.
 */
export function resolveTarget(kind: StartableKind, keyring: KeyRingConfig, ledger: Ledger | undefined, selector: TargetSelector): RunTarget | undefined {
  const accepted = ACCEPTED[kind];
  const flags = [selector.key !== undefined ? '--key' : undefined, selector.generation !== undefined ? '--generation' : undefined].filter((f) => f !== undefined);
  if (!accepted) {
    if (flags.length > 0) {
      throw operatorError(`${flags.join(' and ')} ${flags.length > 1 ? 'are' : 'is'} not used by --kind ${kind}: it acts on the key ring's active generation`, `drop ${flags.join(' and ')}, or use \`rotate cancel-deletion\` / \`--kind retire-key\` to act on another generation`);
    }
    if (selector.enable) throw operatorError(`--enable is only for \`rotate cancel-deletion\``, 'drop --enable');
    return undefined;
  }
  const usage = kind === 'cancel-deletion' ? `rotate cancel-deletion ${keyring.name}` : `rotate start ${keyring.name} --kind retire-key`;
  if (flags.length !== 1) {
    throw operatorError(`${kind} needs exactly one of --generation N or --key ARN${flags.length > 1 ? ' (both were given)' : ''}`, `e.g. \`${usage} --generation 1\`; \`rotate status\` lists the generations`);
  }
  const generation = findSelected(keyring, ledger, selector, usage);
  if (!accepted.states.includes(generation.state)) {
    const active = generation.state === 'active' ? ' — it is the key the alias and Identity Center use' : '';
    throw operatorError(
      `generation ${generation.generation} of key ring ${keyring.name} (${generation.keyArn}) is ${generation.state}${active}; ${accepted.why} (accepted: ${accepted.states.join(', ')})`,
      `pick another generation from \`rotate status\` (${describeGenerations(ledger)})`,
    );
  }
  if (kind === 'cancel-deletion' && generation.state === 'disabled' && !selector.enable) {
    throw operatorError(`generation ${generation.generation} of key ring ${keyring.name} is already disabled, not pending deletion: there is no deletion to cancel`, `add --enable to enable it again: \`${usage} --generation ${generation.generation} --enable\``);
  }
  return { keyArn: generation.keyArn, ...(kind === 'cancel-deletion' ? { enable: Boolean(selector.enable) } : {}) };
}

function findSelected(keyring: KeyRingConfig, ledger: Ledger | undefined, selector: TargetSelector, usage: string): Generation {
  const generations = ledger?.generations ?? [];
  if (selector.generation !== undefined) {
    if (!/^[1-9]\d*$/.test(selector.generation)) {
      throw operatorError(`--generation must be a generation number (1, 2, …), got "${selector.generation}"`, `\`rotate status\` lists the generations of ${keyring.name} (${describeGenerations(ledger)})`);
    }
    const found = generations.find((g) => g.generation === Number(selector.generation));
    if (!found) throw operatorError(`key ring ${keyring.name} has no generation ${selector.generation} in its ledger`, `pick one of: ${describeGenerations(ledger)}`);
    return found;
  }
  const key = (selector.key ?? '').trim();
  // A key ARN, or the bare id at its end (`1234abcd-…`, `mrk-…`): both name the same generation.
  const found = generations.find((g) => g.keyArn === key || g.keyId === key);
  if (!found) {
    const hint = /^arn:aws[a-z-]*:kms:[^:]+:\d{12}:alias\//.test(key) || key.startsWith('alias/') ? ' (that is an alias, not a key: name the key by ARN, id or --generation)' : '';
    throw operatorError(`${key || '(empty)'} is not a key of key ring ${keyring.name}${hint}`, `\`${usage} --generation N\` with one of: ${describeGenerations(ledger)}`);
  }
  return found;
}

function describeGenerations(ledger: Ledger | undefined): string {
  const generations = ledger?.generations ?? [];
  return generations.length === 0 ? 'the ledger has no generations' : generations.map((g) => `${g.generation} ${g.state} ${g.keyId}`).join('; ');
}
