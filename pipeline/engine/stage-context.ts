/**
 * The StageContext the engine hands a stage: every write it offers is fenced by the run's
 * execution lock, and every AWS mutation is written ahead — intent (run + audit) before the call,
 * outcome after — so a crash at any point leaves a record a resume can reconcile.
 */
import type { KeyRingConfig } from '../config/types';
import { withAttemptGuard } from '../aws/attempt-guard';
import { callAws } from '../aws/call';
import { digestOf } from '../canonical-json';
import { evidenceAuditDetail } from '../approvals/chain';
import type { Ledger } from '../ledger/types';
import type { AwsClients } from '../aws/clients';
import { FenceLostError, KeyrotorError } from '../errors';
import type { MutationOutcome, MutationRecord, Run, StageRecord } from '../state/types';
import { SimulatedCrash } from './crash';
import type { EngineOptions, StageContext } from './types';
import type { RunWriter } from './run-writer';

export interface StageContextDeps {
  readonly writer: RunWriter;
  readonly keyring: KeyRingConfig;
  readonly index: number;
  readonly options: EngineOptions;
  /** Clients for the key ring's account in another Region (multi-Region key rings); see EngineDeps. */
  readonly clientsForRegion?: (keyring: KeyRingConfig, region: string) => AwsClients;
  readonly sleep: (ms: number) => Promise<void>;
  readonly onMessage: (message: string) => void;
  readonly onCall: (event: { operation: string; target: string; phase: 'intent' | 'ok' | 'failed'; note?: string }) => void;
}

export function buildStageContext(deps: StageContextDeps): StageContext {
  const { writer, keyring, index } = deps;
  const record = (): StageRecord => writer.run().stages[index]!;
  const stageName = (): string => record().name;

  // The outcome goes to the audit chain first, then to the run: a crash between the two leaves an
  // intent the run still calls unfinished, which the resume reconciles (and audits) again. The
  // other order could leave the run "done" and the chain without the outcome forever.
  const recordOutcome = async (position: number, outcome: MutationOutcome, facts: Record<string, string> | undefined, note: string | undefined): Promise<void> => {
    const at = writer.now().toISOString();
    const intent = record().mutations[position]!;
    await writer.audit(`aws.${outcome}`, { stage: stageName(), operation: intent.operation, target: intent.target, ...(facts ?? {}), ...(note ? { note } : {}) });
    const mutations = record().mutations.map((m, i) =>
      i === position ? { ...m, outcome, outcomeAt: at, ...(facts && Object.keys(facts).length > 0 ? { detail: { ...(m.detail ?? {}), ...facts } } : {}), ...(note ? { note } : {}) } : m,
    );
    await writer.saveStage(index, { mutations });
  };

  const clients = writer.clientsFor(keyring);
  return {
    config: writer.config,
    keyring,
    clients,
    clientsIn: (region) => {
      if (region === keyring.region) return clients;
      if (!deps.clientsForRegion) {
        throw new KeyrotorError(`key ring ${keyring.name} needs AWS clients in ${region}, but this engine was given none for other Regions`, { fault: 'internal', nextStep: 'pass EngineDeps.clientsForRegion (the CLI session does); report this as a bug' });
      }
      return deps.clientsForRegion(keyring, region);
    },
    store: writer.store,
    actor: writer.actor,
    options: deps.options,
    now: () => writer.now(),
    sleep: deps.sleep,
    run: () => writer.run(),
    record,
    ledger: () => writer.ledger(keyring.name),
    mutate: async <T>(operation: string, target: string, call: () => Promise<T>, detail?: Record<string, string>, describe?: (result: T) => Record<string, string>): Promise<T> => {
      writer.checkInterrupted(`before ${operation} on ${target}`);
      // Write-ahead: the fenced run write is also the check that this process still holds the run.
      const intent: MutationRecord = { operation, target, at: writer.now().toISOString(), ...(detail ? { detail } : {}) };
      await writer.saveStage(index, { mutations: [...record().mutations, intent] });
      const position = record().mutations.length - 1;
      await writer.audit('aws.intent', { stage: stageName(), operation, target, ...(detail ?? {}) });
      await writer.store.sync(); // the intent survives even a power cut before AWS is asked
      deps.onCall({ operation, target, phase: 'intent' });
      writer.crash(`before:${operation}`);
      // The intent's fenced write may be long past: a process paused since then (and taken over
      // meanwhile) must not make the call. Refused here, the intent stays unanswered and the
      // process that holds the run reconciles it.
      await writer.confirmFence();
      let result: T;
      try {
        // And again before each attempt the SDK makes: a retry may leave long after this check.
        result = await callAws(operation, { target }, () => withAttemptGuard(() => writer.confirmFence(), call));
      } catch (error) {
        // A crash, or this process found it lost the run (the check before an attempt): nothing to
        // record, and no write may be made as the run's holder any more.
        if (error instanceof SimulatedCrash || error instanceof FenceLostError) throw error;
        const note = error instanceof Error ? error.message : String(error);
        await recordOutcome(position, 'failed', undefined, note);
        deps.onCall({ operation, target, phase: 'failed', note });
        throw error;
      }
      writer.crash(`after:${operation}`);
      await recordOutcome(position, 'ok', describe?.(result), undefined);
      deps.onCall({ operation, target, phase: 'ok' });
      return result;
    },
    saveOutputs: async (outputs) => {
      await writer.saveStage(index, { outputs: { ...(record().outputs ?? {}), ...outputs } });
    },
    updateLedger: async (change: (ledger: Ledger) => Ledger) => writer.updateLedger(keyring.name, change, stageName()),
    updateRun: async (change) => {
      const before = writer.run();
      const next = change(before);
      if (next === before) return before;
      const withDigest = next.plan === before.plan ? next : { ...next, planDigest: digestOf(next.plan) };
      // What the gate reads goes through the audit chain first (write-ahead): a resume redoes both.
      if (withDigest.planDigest !== before.planDigest) await writer.audit('run.plan', { stage: stageName(), planDigest: withDigest.planDigest, newKeyArn: withDigest.plan.newKeyArn });
      if (withDigest.evidenceDigest !== before.evidenceDigest) await writer.audit('run.evidence', { stage: stageName(), ...evidenceAuditDetail(withDigest) });
      await writer.saveRun(withDigest);
      return writer.run();
    },
    progress: (message) => deps.onMessage(message),
  };
}

export type { Run };
