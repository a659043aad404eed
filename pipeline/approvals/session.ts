/**
 * What the approval commands need and nothing more: the config, the state store, the run and its
 * key ring's approval policy. No AWS clients — approving and gating never call AWS, so an approver
 * needs no AWS credentials at all.
 */
import { loadConfig } from '../config/load';
import type { ApprovalPolicy, Config } from '../config/types';
import { ApprovalError } from '../errors';
import { openStateStore } from '../state/open';
import type { Run, StateStore } from '../state/types';

export interface ApprovalSession {
  readonly config: Config;
  readonly store: StateStore;
  readonly run: Run;
  readonly policy: ApprovalPolicy;
  close(): Promise<void>;
}

export interface OpenApprovalSessionInput {
  readonly configFile: string;
  readonly runId: string;
  /** `--state-dir` / $KEYROTOR_STATE_DIR override of the config's state store. */
  readonly stateDir?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export async function openApprovalSession(input: OpenApprovalSessionInput): Promise<ApprovalSession> {
  const config = loadConfig(input.configFile);
  const store = await openStateStore(config.state, { stateDirOverride: input.stateDir, env: input.env });
  try {
    const run = await store.getRun(input.runId);
    if (!run) {
      throw new ApprovalError(`run ${input.runId} not found in ${store.description}`, {
        fault: 'operator',
        nextStep: 'check the run id with `rotate status`, and --state-dir / the config\'s state settings',
      });
    }
    const keyring = config.keyrings.find((k) => k.name === run.keyring);
    if (!keyring) {
      throw new ApprovalError(`run ${run.id} belongs to key ring ${run.keyring}, which ${config.file} does not declare, so its approval policy is unknown`, {
        fault: 'operator',
        nextStep: `restore key ring ${run.keyring} in ${config.file} (or use the config the run was started with via --config)`,
      });
    }
    return { config, store, run, policy: keyring.approvals, close: () => store.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}
