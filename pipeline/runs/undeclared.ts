/**
 * Key rings the state still tracks but the config no longer declares: renamed or removed while
 * they had live keys or an open run. Nothing else looks at them — synth declares no keys for them,
 * drift checked only configured names, and a renamed key ring could open a second run on the same
 * alias and Identity Center instance while the first sat at its gate. `rotate drift` reports them,
 * `rotate status` warns, and `rotate start` refuses a key ring that looks like one of them renamed.
 */
import type { Config, KeyRingConfig } from '../config/types';
import { LIVE_GENERATION_STATES, type Ledger } from '../ledger/types';
import { isOpenRun } from '../state/store-rules';
import type { Run, StateStore } from '../state/types';

export interface UndeclaredKeyring {
  readonly name: string;
  /** Key ARNs of generations not yet pending deletion or deleted. */
  readonly liveKeys: readonly string[];
  readonly openRuns: readonly string[];
  /** Where its latest run said it was (account, Region, alias, Identity Center instance); absent without runs. */
  readonly location?: Pick<Run['plan'], 'account' | 'region' | 'alias' | 'identityCenterInstanceArn'>;
}

/**
 * `ledgersFirst`: read the runs only when some ledger belongs to an undeclared key ring (what
 * `start` uses: one ledger per key ring, where every run of the history would be read otherwise),
 * at the price of missing a renamed key ring whose only trace is an open first run.
 */
export async function undeclaredKeyrings(
  config: Pick<Config, 'keyrings'>,
  store: Pick<StateStore, 'listLedgers' | 'listRuns'>,
  options: { readonly ledgersFirst?: boolean } = {},
): Promise<UndeclaredKeyring[]> {
  const declared = new Set(config.keyrings.map((k) => k.name));
  const ledgers = await store.listLedgers();
  if (options.ledgersFirst && ledgers.every((l) => declared.has(l.keyring))) return [];
  return undeclaredFrom(config, ledgers, await store.listRuns());
}

/** The same from ledgers and runs already read (`runs` in creation order; open runs alone will do, at the price of locations). */
export function undeclaredFrom(config: Pick<Config, 'keyrings'>, ledgers: readonly Ledger[], runs: readonly Run[]): UndeclaredKeyring[] {
  const declared = new Set(config.keyrings.map((k) => k.name));
  const names = new Set([...ledgers.map((l) => l.keyring), ...runs.map((r) => r.keyring)].filter((n) => !declared.has(n)));
  const found: UndeclaredKeyring[] = [];
  for (const name of [...names].sort()) {
    const ledger = ledgers.find((l) => l.keyring === name);
    const liveKeys = (ledger?.generations ?? []).filter((g) => LIVE_GENERATION_STATES.includes(g.state)).map((g) => g.keyArn);
    const own = runs.filter((r) => r.keyring === name);
    const openRuns = own.filter(isOpenRun).map((r) => r.id);
    if (liveKeys.length === 0 && openRuns.length === 0) continue; // retired and done: history only
    const latest = own[own.length - 1];
    found.push({
      name,
      liveKeys,
      openRuns,
      ...(latest
        ? { location: { account: latest.plan.account, region: latest.plan.region, alias: latest.plan.alias, ...(latest.plan.identityCenterInstanceArn ? { identityCenterInstanceArn: latest.plan.identityCenterInstanceArn } : {}) } }
        : {}),
    });
  }
  return found;
}

/** The undeclared key ring `keyring` looks like renamed: the same alias in the same account and Region, or the same Identity Center instance. */
export function renamedFrom(keyring: KeyRingConfig, undeclared: readonly UndeclaredKeyring[]): UndeclaredKeyring | undefined {
  return undeclared.find(({ location: at }) => {
    if (!at) return false;
    const sameAlias = at.account === keyring.account && at.region === keyring.region && at.alias === keyring.alias;
    const sameInstance = at.identityCenterInstanceArn !== undefined && at.identityCenterInstanceArn === keyring.identityCenter?.instanceArn;
    return sameAlias || sameInstance;
  });
}

/** One line per undeclared key ring: what it still holds. */
export function describeUndeclared(u: UndeclaredKeyring): string {
  const holds = [
    ...(u.liveKeys.length > 0 ? [`${u.liveKeys.length} live key(s) (${u.liveKeys.join(', ')})`] : []),
    ...(u.openRuns.length > 0 ? [`open run(s) ${u.openRuns.join(', ')}`] : []),
  ];
  return `key ring ${u.name} is in the state but not in the config, and still has ${holds.join(' and ')}`;
}

export const UNDECLARED_NEXT_STEP =
  'if it was renamed, restore its name in the config (a key ring keeps its name for life); if it was removed, add it back until its open runs end and its keys are retired (`rotate start NAME --kind retire-key`)';
