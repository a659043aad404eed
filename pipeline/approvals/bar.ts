/**
 * A run keeps the bar its approvers signed for. At start the plan records the quorum, the approval
 * lifetime, the deletion window, the minimum soak, whether the soak disables the old key, the
 * allowed_signers contents (and their sha256) and who counts as one person; the plan digest covers
 * all of it and every approval signs the plan digest. Before each advance the engine compares that
 * bar with the current config (`barChanges`): any difference stops the run with exit 2, naming each
 * field, until `rotate replan` re-binds it (making earlier approvals stale) or a new run starts.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { canonicalJson } from '../canonical-json';
import type { Config, KeyRingConfig, PersonConfig } from '../config/types';
import { ApprovalError } from '../errors';
import type { ApprovalBar, Run, RunPlan } from '../state/types';
import { parseAllowedSigners, readAllowedSignersText } from './allowed-signers';
import type { PersonGroup } from './persons';

export type { ApprovalBar } from '../state/types';

/** What the bar is built from besides the key ring: the file's text and the config's people. */
export interface BarInputs {
  readonly allowedSignersText: string;
  /** The file as the config names it, relative to the config's directory. */
  readonly allowedSignersFile: string;
  readonly people: readonly PersonGroup[];
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `people` entries that name allowed_signers principals, sorted: the part of `people` that decides who counts once. */
export function personGroups(people: readonly PersonConfig[] | undefined): PersonGroup[] {
  return (people ?? [])
    .filter((p) => p.signers.length > 0)
    .map((p) => ({ name: p.name, signers: [...p.signers] }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Reads what the bar of a run on `keyring` would bind now (the allowed_signers file must be readable). */
export async function barInputs(config: Pick<Config, 'baseDir' | 'people'>, keyring: KeyRingConfig): Promise<BarInputs> {
  return {
    allowedSignersText: await readAllowedSignersText(keyring.approvals.allowedSignersFile),
    allowedSignersFile: path.relative(config.baseDir, keyring.approvals.allowedSignersFile) || keyring.approvals.allowedSignersFile,
    people: personGroups(config.people),
  };
}

export function barFor(keyring: KeyRingConfig, inputs: BarInputs): ApprovalBar {
  return {
    quorum: keyring.approvals.quorum,
    lifetimeHours: keyring.approvals.lifetimeHours,
    allowedSignersFile: inputs.allowedSignersFile,
    allowedSignersSha256: sha256Hex(inputs.allowedSignersText),
    allowedSigners: inputs.allowedSignersText,
    people: inputs.people,
  };
}

/** Whether a run of this plan deletes through the approval gate (only those runs carry a bar). */
export function hasApprovalGate(plan: Pick<RunPlan, 'stages'>): boolean {
  return plan.stages.includes('approval-gate');
}

export interface BarChange {
  /** Config path, e.g. `approvals.quorum`, `rotation.deletionWindowDays`, `approvals.allowedSignersFile`, `people`. */
  readonly field: string;
  /** What the run recorded at start (what approvers sign for). */
  readonly signed: string;
  /** What the config says now. */
  readonly current: string;
}

/** The entries of an allowed_signers text that matter for verification (comments and order ignored). */
function signerSet(text: string): { keys: Map<string, string>; unreadable?: string } {
  try {
    const keys = new Map<string, string>();
    for (const s of parseAllowedSigners(text, 'allowed_signers')) {
      keys.set(canonicalJson([s.principals, s.options ?? '', s.keyType, s.publicKey]), `${s.principals.join(',')} ${s.fingerprint}${s.certAuthority ? ' (CA)' : ''}`);
    }
    return { keys };
  } catch (error) {
    return { keys: new Map(), unreadable: (error as Error).message };
  }
}

function signersChange(bar: ApprovalBar, text: string | undefined, currentFile: string): BarChange | undefined {
  const signed = `${bar.allowedSignersFile} sha256 ${bar.allowedSignersSha256.slice(0, 12)}…`;
  if (text === undefined) return { field: 'approvals.allowedSignersFile', signed, current: `${currentFile} cannot be read` };
  if (sha256Hex(text) === bar.allowedSignersSha256) return undefined;
  const before = signerSet(bar.allowedSigners);
  const after = signerSet(text);
  if (after.unreadable) return { field: 'approvals.allowedSignersFile', signed, current: `${currentFile}: ${after.unreadable}` };
  const added = [...after.keys].filter(([k]) => !before.keys.has(k)).map(([, d]) => `+ ${d}`);
  const removed = [...before.keys].filter(([k]) => !after.keys.has(k)).map(([, d]) => `- ${d}`);
  // Comments, blank lines and order do not change who may approve.
  if (added.length === 0 && removed.length === 0) return undefined;
  return { field: 'approvals.allowedSignersFile', signed, current: `${currentFile} sha256 ${sha256Hex(text).slice(0, 12)}… (${[...removed, ...added].join('; ')})` };
}

/**
 * How the config (key ring settings, allowed_signers text, people) differs from the bar the run
 * recorded at start. Empty when nothing changed or the run has no approval gate. Pure.
 * `allowedSignersText` undefined = the file cannot be read (itself a change).
 */
export function barChanges(
  run: Pick<Run, 'plan'>,
  keyring: KeyRingConfig,
  allowedSignersText: string | undefined,
  people?: readonly PersonConfig[],
): BarChange[] {
  const plan = run.plan;
  if (!hasApprovalGate(plan)) return [];
  const bar = plan.approvals;
  if (!bar) {
    return [{ field: 'approvals', signed: 'not recorded (run started before keyrotor bound runs to their approval bar)', current: `quorum ${keyring.approvals.quorum}, ${keyring.approvals.allowedSignersFile}` }];
  }
  const changes: BarChange[] = [];
  const compare = (field: string, signed: unknown, current: unknown): void => {
    if (signed !== current) changes.push({ field, signed: String(signed ?? 'not recorded'), current: String(current) });
  };
  compare('approvals.quorum', bar.quorum, keyring.approvals.quorum);
  compare('approvals.lifetimeHours', bar.lifetimeHours, keyring.approvals.lifetimeHours);
  compare('rotation.deletionWindowDays', plan.deletionWindowDays, keyring.rotation.deletionWindowDays);
  compare('rotation.minimumSoakHours', plan.minimumSoakHours, keyring.rotation.minimumSoakHours);
  compare('rotation.disableOldKeyDuringSoak', plan.disableOldKeyDuringSoak, keyring.rotation.disableOldKeyDuringSoak);
  const signers = signersChange(bar, allowedSignersText, keyring.approvals.allowedSignersFile);
  if (signers) changes.push(signers);
  if (people !== undefined) {
    const now = personGroups(people);
    if (canonicalJson(now) !== canonicalJson(bar.people)) {
      const show = (groups: readonly PersonGroup[]): string => (groups.length === 0 ? 'none' : groups.map((g) => `${g.name}: ${g.signers.join(', ')}`).join('; '));
      changes.push({ field: 'people', signed: show(bar.people), current: show(now) });
    }
  }
  return changes;
}

export function describeBarChanges(runId: string, changes: readonly BarChange[]): string {
  return [
    `run ${runId} was started under another configuration; its approvers sign for the bar it recorded, so it stops here:`,
    ...changes.map((c) => `  ${c.field}: run recorded ${c.signed}; the config now says ${c.current}`),
  ].join('\n');
}

/** The config changed under an open run: exit 2, naming each field and the ways forward. */
export class BarChangedError extends ApprovalError {
  constructor(readonly runId: string, readonly changes: readonly BarChange[]) {
    super(describeBarChanges(runId, changes), {
      fault: 'operator',
      nextStep:
        `either restore the config the run started with; or adopt the current config with \`rotate replan ${runId}\` ` +
        '(the plan digest changes, so every earlier approval becomes stale and approvers sign again); or roll this run back and start a new one',
    });
  }
}

/** Reads the current allowed_signers text, undefined when it cannot be read (reported as a change). */
async function currentSignersText(keyring: KeyRingConfig): Promise<string | undefined> {
  try {
    return await readAllowedSignersText(keyring.approvals.allowedSignersFile);
  } catch {
    return undefined;
  }
}

/** The engine's check before each advance (and the approval commands' before they act). */
export async function assertBarUnchanged(run: Pick<Run, 'id' | 'plan'>, config: Pick<Config, 'people'>, keyring: KeyRingConfig): Promise<void> {
  if (!hasApprovalGate(run.plan)) return;
  const changes = barChanges(run, keyring, await currentSignersText(keyring), config.people ?? []);
  if (changes.length > 0) throw new BarChangedError(run.id, changes);
}
