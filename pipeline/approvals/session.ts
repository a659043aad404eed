/**
 * What the approval commands need and nothing more: the config, the state store (read-only for
 * them), the run, its key ring, the audit chain and the approvals directory. No AWS clients —
 * approving and gating never call AWS, so an approver needs no AWS credentials at all.
 */
import { stat } from 'node:fs/promises';
import { loadConfig } from '../config/load';
import type { Config, KeyRingConfig } from '../config/types';
import { ApprovalError } from '../errors';
import { openConfiguredStore } from '../state/open';
import { resolveRun } from '../runs/resolve-run';
import type { Run, StateStore } from '../state/types';
import { assertBarUnchanged } from './bar';
import { readChain, type ChainView } from './chain';
import { approvalsDirFor, collectApprovals, type CollectedApprovals } from './files';
import { evaluateApprovals, type GateResult } from './gate';
import type { SshKeygenOptions } from './ssh';

export interface ApprovalSession {
  readonly config: Config;
  readonly store: StateStore;
  readonly run: Run;
  readonly keyring: KeyRingConfig;
  /** Where approval files are read from and written to (one function decides: approvalsDirFor). */
  readonly approvalsDir: string;
  readonly chain: ChainView;
  /** Gathers the run's approvals (recorded ones and files) and judges them, as the engine's gate does. */
  evaluate(now: Date, ssh?: SshKeygenOptions): Promise<{ result: GateResult; collected: CollectedApprovals }>;
  close(): Promise<void>;
}

export interface OpenApprovalSessionInput {
  readonly configFile: string;
  readonly runId: string;
  /** `--state-dir` / $KEYROTOR_STATE_DIR override of the config's state store. */
  readonly stateDir?: string;
  /** `--approvals-dir`. */
  readonly approvalsDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** `--endpoint`: STS for the state role in team mode (the emulator). */
  readonly stsEndpoint?: string;
  /** Where a note goes when the state role cannot be assumed (team mode). */
  readonly onNote?: (note: string) => void;
  readonly cwd?: string;
  /** `rotate approve` writes into the directory (and creates it); readers need it to exist when it was named. */
  readonly writesApprovals?: boolean;
}

export async function openApprovalSession(input: OpenApprovalSessionInput): Promise<ApprovalSession> {
  const config = loadConfig(input.configFile);
  const store = await openConfiguredStore(config, { stateDirOverride: input.stateDir, env: input.env, ...(input.stsEndpoint ? { stsEndpoint: input.stsEndpoint } : {}), ...(input.onNote ? { onNote: input.onNote } : {}) });
  try {
    // RUN as every command takes it: an id, a unique prefix, `latest[:KEYRING]`.
    const run = await resolveRun(store, input.runId);
    const keyring = config.keyrings.find((k) => k.name === run.keyring);
    if (!keyring) {
      throw new ApprovalError(`run ${run.id} belongs to key ring ${run.keyring}, which ${config.file} does not declare`, {
        fault: 'operator',
        nextStep: `restore key ring ${run.keyring} in ${config.file} (or use the config the run was started with via --config)`,
      });
    }
    // A run whose config changed stops at its next advance; nothing approved under it would count.
    await assertBarUnchanged(run, config, keyring);
    const approvalsDir = approvalsDirFor(config.baseDir, { flag: input.approvalsDir, env: input.env, cwd: input.cwd });
    const named = input.approvalsDir ?? input.env?.KEYROTOR_APPROVALS_DIR;
    if (!input.writesApprovals && named !== undefined && named !== '' && !(await isDirectory(approvalsDir))) {
      // A directory someone named but that is not there is a typo, not "no approvals yet".
      throw new ApprovalError(`the approvals directory ${approvalsDir} (from ${input.approvalsDir !== undefined ? '--approvals-dir' : '$KEYROTOR_APPROVALS_DIR'}) does not exist`, {
        fault: 'operator',
        nextStep: 'point --approvals-dir / $KEYROTOR_APPROVALS_DIR at the directory holding the approval files (default approvals/ beside the config)',
      });
    }
    const chain = await readChain(store);
    return {
      config,
      store,
      run,
      keyring,
      approvalsDir,
      chain,
      evaluate: async (now, ssh) => {
        const collected = await collectApprovals(run, approvalsDir);
        return { result: await evaluateApprovals(run, { now, collected, chain, ...(ssh ? { ssh } : {}) }), collected };
      },
      close: () => store.close(),
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}
