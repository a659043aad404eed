/**
 * Team mode from nothing (README "Team mode: boot order"). `rotate bootstrap` writes the pipeline
 * stack alone — no ledger read, no AWS call — for an administrator to apply once, and creates the
 * empty ledger export synth reads. `rotate bootstrap --check` then proves, from the identity it
 * runs as (CI's), that everything the deploy and rotation workflows rely on is in place: each
 * account's role can be assumed and acts in its account, and the state table answers through the
 * state role.
 */
import { GetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { promises as fs } from 'node:fs';
import type { Config } from '../config/types';
import { accessOf } from '../config/access';
import { pipelineRoleAccounts } from '../config/rules';
import type { CredentialChain } from '../aws/role-credentials';
import { resolveEndpoint } from '../aws/endpoints';
import { ledgerExportDir } from './ledger-export';
import { dynamoDbEndpointIn } from '../state/open';

/** The steps of the boot order, as `rotate bootstrap` prints them. */
export function bootOrder(config: Config, stackDir: string): string[] {
  const pipeline = config.pipeline!;
  const access = accessOf(config)!;
  const others = pipelineRoleAccounts(config).filter((a) => a !== pipeline.account);
  const backend = config.backend.type === 's3' ? `the S3 bucket ${config.backend.bucket} (${config.backend.region}, versioning on) holds Terraform's state; ` : '';
  return [
    `0. prerequisites: ${backend}an administrator session in the team account ${pipeline.account}${others.length > 0 ? ` that can assume ${access.bootstrapRoleName} in ${others.join(', ')}` : ''}`,
    `1. apply the pipeline stack, as that administrator: terraform -chdir=${stackDir} init && terraform -chdir=${stackDir} apply` +
      ` (creates ${config.state.type === 'dynamodb' ? `the state table ${config.state.table}, ` : ''}the CI identity ${access.ciRole}, and the pipeline role in ${pipelineRoleAccounts(config).join(', ')})`,
    `2. point the workflows at the CI identity: repository variable AWS_ROLE_ARN=${access.ciRole} (role-to-assume of every job), AWS_REGION=${pipeline.region}`,
    `3. from a workflow run (or any session the roles trust): \`rotate bootstrap --check\` — every account's role is assumed and the state table answers`,
    `4. commit ${config.state.type === 'dynamodb' ? `the ledger export ${ledgerExportDir(config)}/ and ` : ''}the config; the deploy workflow synthesizes (no AWS access), plans and applies the key stacks through each account's role`,
    '5. record existing keys (`rotate start <key ring> --kind adopt`), or migrate Identity Center (`--kind migrate-to-cmk`); then rotate, one key ring or a fleet (`rotate fleet start --all`)',
  ];
}

export interface BootstrapCheck {
  readonly what: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly nextStep?: string;
}

export interface BootstrapCheckInput {
  readonly config: Config;
  readonly credentials: CredentialChain;
  readonly env: NodeJS.ProcessEnv;
  /** --endpoint (STS at the emulator). */
  readonly endpoint?: string;
}

function messageOf(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
}

/** Every check, in boot order; none stops the others. */
export async function checkBootstrap(input: BootstrapCheckInput): Promise<BootstrapCheck[]> {
  const { config, credentials, env } = input;
  const access = accessOf(config);
  const region = config.pipeline?.region ?? config.keyrings[0]!.region;
  const checks: BootstrapCheck[] = [];

  const start = await credentials.sourceCaller(region).then(
    (caller) => ({ ok: true, detail: caller.arn }),
    (error: unknown) => ({ ok: false, detail: messageOf(error) }),
  );
  checks.push({ what: 'starting identity', ...start, ...(start.ok ? {} : { nextStep: 'provide credentials (CI: the CI identity through OIDC)' }) });
  if (!start.ok) return checks;

  const stsEndpoint = resolveEndpoint('sts', input.endpoint, env).url;
  for (const account of Object.keys(access?.accounts ?? {}).sort()) {
    const roles = access!.accounts[account]!;
    const route = await credentials.routeFor(account, region);
    const sts = new STSClient({ region, ...(stsEndpoint ? { endpoint: stsEndpoint } : {}), credentials: credentials.credentialsFor(account, region) as never });
    try {
      const who = await sts.send(new GetCallerIdentityCommand({}));
      const inAccount = who.Account === account;
      checks.push({
        what: `account ${account}: ${roles.pipelineRole}`,
        ok: inAccount,
        detail: `${route.kind === 'assume-role' ? 'assumed' : 'already'}: acts as ${who.Arn}`,
        ...(inAccount ? {} : { nextStep: `the role acts in ${who.Account}, not ${account}; fix access.accounts["${account}"]` }),
      });
    } catch (error) {
      checks.push({ what: `account ${account}: ${roles.pipelineRole}`, ok: false, detail: messageOf(error), nextStep: (error as { nextStep?: string }).nextStep ?? 'apply the pipeline stack (step 1), then check again' });
    } finally {
      sts.destroy();
    }
  }

  if (config.state.type === 'dynamodb') {
    const state = config.state;
    const endpoint = dynamoDbEndpointIn(env);
    const client = new DynamoDBClient({ region: state.region, ...(endpoint ? { endpoint } : {}), ...(access?.stateRole ? { credentials: credentials.stateCredentials(state.region) as never } : { credentials: credentials.source() as never }) });
    try {
      // GetItem, not DescribeTable: it is what the pipeline role may do, and it proves the key schema.
      await client.send(new GetItemCommand({ TableName: state.table, Key: { pk: { S: 'AUDIT_HEAD' }, sk: { S: 'head' } } }));
      checks.push({ what: `state table ${state.table} (${state.region})`, ok: true, detail: `answers through ${access?.stateRole ?? 'the starting credentials'}` });
    } catch (error) {
      const missing = (error as { name?: string }).name === 'ResourceNotFoundException';
      checks.push({
        what: `state table ${state.table} (${state.region})`,
        ok: false,
        detail: messageOf(error),
        nextStep: missing ? 'the table does not exist yet: apply the pipeline stack (step 1)' : (error as { nextStep?: string }).nextStep ?? 'check the state role\'s permissions on the table',
      });
    } finally {
      client.destroy();
    }
    const exportDir = ledgerExportDir(config)!;
    const exists = await fs.stat(exportDir).then((s) => s.isDirectory(), () => false);
    checks.push({ what: `ledger export ${exportDir}`, ok: exists, detail: exists ? 'present (synth reads it)' : 'missing', ...(exists ? {} : { nextStep: 'run `rotate bootstrap` (it creates the export) and commit it' }) });
  }
  return checks;
}
