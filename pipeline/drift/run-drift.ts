/**
 * `rotate drift`: live AWS against the config and the latest ledger, for every (or the named) key
 * ring, plus keyrotor keys no ledger knows and, with a synth directory, whether the stacks were
 * synthesized from the latest ledgers. The only write: a `pending-deletion` generation whose date
 * has passed and whose key KMS no longer has becomes `deleted`, through the ledger's transition
 * rules, with an audit entry — so the stacks stop carrying its `removed` block and monitoring and
 * orphan checks stop counting it. `readOnly` skips even that (the deploy's checks).
 */
import { describeCaller } from '../aws/caller';
import type { AwsClients } from '../aws/clients';
import type { Config, KeyRingConfig } from '../config/types';
import { exitCodeFor, ExitCode, KeyrotorError, StateError, type Fault } from '../errors';
import type { SynthManifest } from '../gitops/synth-manifest';
import { withGenerationState } from '../ledger/generations';
import type { Generation, Ledger } from '../ledger/types';
import type { StateStore } from '../state/types';
import { describeUndeclared, UNDECLARED_NEXT_STEP, undeclaredKeyrings } from '../runs/undeclared';
import { checkKeyring, finding } from './check-keyring';
import { findOrphans } from './orphans';
import { staleSynthFindings } from './synth-freshness';
import type { DriftFinding, DriftReport, KeyringDriftReport, LedgerUpdate } from './types';

export interface DriftDeps {
  readonly config: Config;
  readonly store: StateStore;
  readonly clientsFor: (keyring: KeyRingConfig) => AwsClients;
  /** Clients of a key ring's account in another Region, for its replicas; without it replicas are not checked. */
  readonly clientsForRegion?: (keyring: KeyRingConfig, region: string) => AwsClients;
  /** Who is acting, for the audit entry of a ledger update. */
  readonly actor: (keyring: KeyRingConfig) => Promise<string>;
  readonly now?: () => Date;
}

export interface DriftOptions {
  /** Key ring names; empty: the key rings of the synth manifests, else every configured one. */
  readonly keyrings?: readonly string[];
  /** Manifests of the stacks about to be planned or applied (`--synth-dir`). */
  readonly manifests?: readonly SynthManifest[];
  /** Write nothing (ledger updates are reported as not written). */
  readonly readOnly?: boolean;
  /** Count only what blocks a deploy (DriftFinding.blocksDeploy) towards drift and the exit code. */
  readonly deployGate?: boolean;
}

export class UnknownKeyringError extends KeyrotorError {
  constructor(names: readonly string[], config: Config) {
    super(`unknown key ring${names.length === 1 ? '' : 's'} ${names.join(', ')} (the config ${config.file} has ${config.keyrings.map((k) => k.name).join(', ')})`, {
      fault: 'operator',
      nextStep: 'pass key ring names from the config, or none for all of them',
    });
  }
}

export async function runDrift(deps: DriftDeps, options: DriftOptions = {}): Promise<DriftReport> {
  const { config, store } = deps;
  const now = (deps.now ?? (() => new Date()))();
  const selected = selectKeyrings(config, options);

  const keyrings: Array<KeyringDriftReport & { notes: string[] }> = [];
  for (const keyring of selected) keyrings.push(await checkOne(deps, keyring, now, options.readOnly ?? false));

  const orphans: DriftFinding[] = [];
  const allLedgers = await store.listLedgers();
  const filter = options.keyrings && options.keyrings.length > 0 ? new Set(selected.map((k) => k.name)) : undefined;
  for (const scope of accountRegions(selected)) {
    const report = keyrings.find((k) => k.account === scope.account && k.region === scope.region && !k.error);
    if (!report) continue; // credentials for this account failed: reported on its key rings
    try {
      const scan = await findOrphans(deps.clientsFor(scope.keyring), scope, allLedgers, filter);
      orphans.push(...scan.orphans);
      report.notes.push(...scan.notes);
    } catch (error) {
      if (!(error instanceof KeyrotorError)) throw error;
      report.notes.push(`orphan scan of ${scope.account}/${scope.region} failed: ${error.message}`);
    }
  }

  for (const u of await undeclaredKeyrings(config, store)) {
    orphans.push(
      finding('undeclared-keyring', {
        keyring: u.name,
        subject: u.name,
        expected: `declared in ${config.file}`,
        actual: [...(u.liveKeys.length > 0 ? [`${u.liveKeys.length} live key(s)`] : []), ...(u.openRuns.length > 0 ? [`open run(s) ${u.openRuns.join(', ')}`] : [])].join(', '),
        message: `${describeUndeclared(u)}: synth declares no keys for it, so a deploy would drop them from the stacks`,
        nextStep: UNDECLARED_NEXT_STEP,
      }),
    );
  }

  const synth: DriftFinding[] = [];
  if (options.manifests) {
    const latest = new Map<string, Ledger | undefined>();
    for (const entry of options.manifests.flatMap((m) => m.keyrings)) latest.set(entry.name, await store.getLedger(entry.name));
    synth.push(...staleSynthFindings(options.manifests, latest, new Set(config.keyrings.map((k) => k.name))));
  }

  const counted = [...keyrings.flatMap((k) => k.findings), ...orphans, ...synth].filter((f) => !options.deployGate || f.blocksDeploy);
  const firstError = keyrings.find((k) => k.error)?.error;
  const exitCode = counted.length > 0 ? ExitCode.notSatisfied : firstError ? exitCodeOfFault(firstError.fault) : ExitCode.ok;
  return { version: 1, checkedAt: now.toISOString(), drift: counted.length > 0, exitCode, keyrings, orphans, synth };
}

function selectKeyrings(config: Config, options: DriftOptions): KeyRingConfig[] {
  const names = options.keyrings && options.keyrings.length > 0 ? options.keyrings : options.manifests ? [...new Set(options.manifests.flatMap((m) => m.keyrings.map((k) => k.name)))] : undefined;
  if (!names) return [...config.keyrings];
  const unknown = names.filter((n) => !config.keyrings.some((k) => k.name === n));
  // A manifest's key ring missing from the config is a stale synth (reported), not an operator typo.
  if (unknown.length > 0 && options.keyrings && options.keyrings.length > 0) throw new UnknownKeyringError(unknown, config);
  return config.keyrings.filter((k) => names.includes(k.name));
}

function accountRegions(keyrings: readonly KeyRingConfig[]): Array<{ account: string; region: string; keyring: KeyRingConfig }> {
  const seen = new Map<string, { account: string; region: string; keyring: KeyRingConfig }>();
  for (const k of keyrings) if (!seen.has(`${k.account}/${k.region}`)) seen.set(`${k.account}/${k.region}`, { account: k.account, region: k.region, keyring: k });
  return [...seen.values()];
}

function exitCodeOfFault(fault: Fault): number {
  return exitCodeFor(new KeyrotorError('', { fault }));
}

async function checkOne(deps: DriftDeps, keyring: KeyRingConfig, now: Date, readOnly: boolean): Promise<KeyringDriftReport & { notes: string[] }> {
  const base = { name: keyring.name, account: keyring.account, region: keyring.region };
  let ledger: Ledger | undefined;
  try {
    ledger = await deps.store.getLedger(keyring.name);
    const clients = deps.clientsFor(keyring);
    // Asked of STS, not taken from the config: with another account's credentials every key
    // would look missing, and that must read as "wrong credentials", never as drift.
    const account = (await describeCaller(clients)).account;
    if (account !== keyring.account) {
      throw new KeyrotorError(`the AWS credentials are for account ${account}, but key ring ${keyring.name} lives in ${keyring.account}: every key would look missing`, {
        fault: 'operator',
        nextStep: `run \`rotate drift ${keyring.name}\` with credentials for account ${keyring.account}`,
      });
    }
    const check = await checkKeyring(clients, keyring, ledger, now, deps.clientsForRegion);
    const updates = check.dueForDeleted.length === 0 ? [] : await markDeleted(deps, keyring, check.dueForDeleted, now, readOnly);
    return { ...base, ledgerVersion: ledger?.version ?? null, checked: check.checked, findings: check.findings, updates, notes: [...check.notes] };
  } catch (error) {
    if (!(error instanceof KeyrotorError)) throw error;
    return {
      ...base,
      ledgerVersion: ledger?.version ?? null,
      checked: [],
      findings: [],
      updates: [],
      notes: [],
      error: { message: error.message, fault: error.fault, ...(error.nextStep ? { nextStep: error.nextStep } : {}) },
    };
  }
}

/**
 * pending-deletion → deleted for `due`, on the freshest ledger: an audit entry written ahead, then a
 * conditional write (one retry when another writer got there first). Idempotent: a generation
 * already `deleted` is left alone.
 */
async function markDeleted(deps: DriftDeps, keyring: KeyRingConfig, due: readonly Generation[], now: Date, readOnly: boolean): Promise<LedgerUpdate[]> {
  const reason = (g: Generation) => `deletion date ${g.deletionDate} has passed and KMS no longer has the key`;
  const planned = due.map((g): LedgerUpdate => ({ keyring: keyring.name, generation: g.generation, keyArn: g.keyArn, from: 'pending-deletion', to: 'deleted', reason: reason(g), written: false }));
  if (readOnly) return planned;
  const at = now.toISOString();
  for (let attempt = 1; ; attempt += 1) {
    const current = await deps.store.getLedger(keyring.name);
    if (!current) return planned;
    let next = current;
    for (const g of due) {
      if (next.generations.find((x) => x.generation === g.generation)?.state === 'pending-deletion') next = withGenerationState(next, g.generation, 'deleted', at);
    }
    if (next === current) return planned.map((u) => ({ ...u, written: true })); // another writer already did it
    try {
      // Written ahead: the chain records the change before the ledger makes it, so a crash between
      // the two can never leave a ledger change the chain does not know (a lost race leaves an
      // intent whose version the ledger never reached; the ledger stays the truth).
      await deps.store.appendAudit({
        actor: await deps.actor(keyring),
        action: 'ledger.intent',
        keyring: keyring.name,
        at,
        detail: {
          by: 'rotate drift',
          generations: due.map((g) => `${g.generation}:deleted`).join(','),
          keyArns: due.map((g) => g.keyArn).join(','),
          reason: 'deletion date passed and KMS no longer has the key',
          ledgerVersion: current.version + 1,
        },
      });
      await deps.store.putLedger({ ...next, version: current.version, updatedAt: at });
      await deps.store.sync();
      return planned.map((u) => ({ ...u, written: true }));
    } catch (error) {
      if (!(error instanceof StateError) || attempt >= 2) throw error;
    }
  }
}
