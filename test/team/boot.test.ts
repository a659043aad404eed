/**
 * Team mode boots from nothing, in the documented order, against the emulator (STS, KMS) and
 * dynalite (the state table): `rotate bootstrap` writes the pipeline stack with no AWS access; its
 * roles, as synthesized, are what the emulator's STS enforces; `bootstrap --check` says what is
 * missing until the table exists; then a rotation in account B, with its state in team account T,
 * runs from the one CI identity — each account acted on by its own role, the state store by its
 * own — and synth reads the ledger export with no AWS access at all.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { DynamoDbStateStore } from '../../pipeline/state/dynamodb-store';
import { ExitCode } from '../../pipeline/errors';
import { main } from '../../scripts/cli/main';
import type { CliIo } from '../../scripts/cli/context';
import { createOrg, type CliResult, type Org } from '../fleet/helpers';
import { createFirstGenerations } from '../../scripts/demo/fleet-workspace';
import { QuotaRateLimiter } from '../../pipeline/aws/rate-limiter';

const createDynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

const T = '111111111111';
const B = '222222222222';
const TABLE = 'keyrotor-state';

let dynalite: Server;
let dynamoEndpoint: string;
let org: Org;
beforeAll(async () => {
  dynalite = createDynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => dynalite.listen(0, '127.0.0.1', resolve));
  dynamoEndpoint = `http://127.0.0.1:${(dynalite.address() as AddressInfo).port}`;
  org = await createOrg({
    accounts: [B],
    regions: ['eu-west-1'],
    perGroup: 1,
    emulator: { quotas: false },
    extra: {
      state: { type: 'dynamodb', table: TABLE, region: 'us-east-1' },
      pipeline: { account: T, region: 'us-east-1', github: { repository: 'example-org/keyrotor' } },
    },
  });
});
afterAll(async () => {
  await org.close();
  await new Promise<void>((resolve) => dynalite.close(() => resolve()));
});

/** The CLI with exactly `env` (no endpoint flag, no CI keys unless given). */
async function bare(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), interactive: false, readLine: async () => undefined };
  const code = await main(['node', 'rotate', '--config', org.ws.configPath, ...args], { io, env, cwd: org.dir });
  return { code, out, err };
}

const dynamo = () => ({ AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint });
const stackFile = () => path.join(org.dir, 'cdktf.out', 'stacks', `keyrotor-pipeline-${T}-us-east-1`, 'cdk.tf.json');

describe('team mode, in boot order', () => {
  it('1. GIVEN nothing but the config WHEN `rotate bootstrap` THEN the pipeline stack and the empty ledger export are written, with no credentials and no AWS call, and the boot order is printed', async () => {
    const result = await bare(['bootstrap'], {});
    expect(result.code).toBe(0);
    expect(existsSync(stackFile())).toBe(true);
    expect(existsSync(path.join(org.dir, 'state', 'ledgers'))).toBe(true);
    expect(result.out).toContain(`0. prerequisites: an administrator session in the team account ${T} that can assume OrganizationAccountAccessRole in ${B}`);
    expect(result.out).toMatch(/1\. apply the pipeline stack, as that administrator: terraform -chdir=cdktf\.out\/stacks\/keyrotor-pipeline-111111111111-us-east-1 init/);
    expect(result.out).toContain(`AWS_ROLE_ARN=arn:aws:iam::${T}:role/keyrotor-ci`);
    expect(org.emulator.callLog()).toEqual([]);
  });

  it('2. GIVEN the roles applied as synthesized (trust from the stack JSON) but no table WHEN `bootstrap --check` as the CI identity THEN every role answers and the missing table is named with its step (exit 1)', async () => {
    const stack = JSON.parse(readFileSync(stackFile(), 'utf8')) as { resource: { aws_iam_role: Record<string, { name: string; assume_role_policy: string }> } };
    const roles = Object.entries(stack.resource.aws_iam_role).filter(([id]) => id.startsWith('pipeline_role_'));
    expect(roles.map(([id]) => id).sort()).toEqual([`pipeline_role_${T}`, `pipeline_role_${B}`]);
    for (const [id, role] of roles) {
      const trust = JSON.parse(role.assume_role_policy) as { Statement: Array<{ Principal: { AWS: string } }> };
      // "Apply" the IAM side to the emulator: the role, trusting exactly what the stack says.
      org.emulator.addRole({ arn: `arn:aws:iam::${id.slice('pipeline_role_'.length)}:role/${role.name}`, trustedPrincipals: trust.Statement.map((s) => s.Principal.AWS) });
    }
    const check = await org.rotate(['bootstrap', '--check'], dynamo());
    expect(check.code).toBe(ExitCode.notSatisfied);
    expect(check.out).toContain(`✔ starting identity: ${org.ws.ci.sessionArn}`);
    expect(check.out).toContain(`✔ account ${B}: arn:aws:iam::${B}:role/keyrotor-pipeline: assumed: acts as arn:aws:sts::${B}:assumed-role/keyrotor-pipeline/gh-operator-1`);
    expect(check.out).toContain(`✖ state table ${TABLE} (us-east-1): ResourceNotFoundException`);
    expect(check.out).toContain('next: the table does not exist yet: apply the pipeline stack (step 1)');
  });

  it('3. GIVEN the table WHEN `bootstrap --check` THEN team mode is ready (exit 0)', async () => {
    // The table as the stack declares it (pipeline-stack.test.ts proves ensureTable() creates that layout).
    const store = new DynamoDbStateStore({ table: TABLE, region: 'us-east-1', endpoint: dynamoEndpoint, credentials: { accessKeyId: 'admin', secretAccessKey: 'x' } });
    await store.ensureTable();
    await store.close();
    const check = await org.rotate(['bootstrap', '--check'], dynamo());
    expect(check.code).toBe(0);
    expect(check.out).toContain('team mode is ready');
  });

  it('4. GIVEN a key ring in account B WHEN the CI identity adopts and rotates it THEN KMS in B is called by B\'s role, the state store reaches T\'s table as T\'s role, and the ledger export follows', async () => {
    const name = org.ws.keyringNames[0]!;
    await createFirstGenerations(org.ws, org.emulator.endpoint, new QuotaRateLimiter());
    org.emulator.clearCallLog();
    expect((await org.rotate(['start', name, '--kind', 'adopt'], dynamo())).code).toBe(0);
    const advanced = await org.json(['fleet', 'advance', '--all'], dynamo());
    expect(advanced.body.outcomes).toEqual([expect.objectContaining({ keyring: name, outcome: 'completed' })]);

    const started = await org.rotate(['start', name, '--signing-key', org.ws.operatorKeyPath], dynamo());
    expect(started.code).toBe(0);
    const toGate = await org.json(['fleet', 'advance', '--all'], dynamo());
    expect(toGate.body.outcomes).toEqual([expect.objectContaining({ keyring: name, outcome: 'waiting', stage: 'approval-gate' })]);

    const log = org.emulator.callLog();
    const kms = log.filter((c) => c.service === 'kms');
    expect(new Set(kms.map((c) => `${c.account} ${c.caller}`))).toEqual(new Set([`${B} arn:aws:sts::${B}:assumed-role/keyrotor-pipeline/gh-operator-1`]));
    const assumed = new Set(log.filter((c) => c.operation === 'AssumeRole').map((c) => `${c.caller} → ${c.target}`));
    expect(assumed).toEqual(new Set([`${org.ws.ci.sessionArn} → arn:aws:iam::${B}:role/keyrotor-pipeline`, `${org.ws.ci.sessionArn} → arn:aws:iam::${T}:role/keyrotor-pipeline`]));

    // The state lives in T's table; the export in the repository matches it.
    const store = new DynamoDbStateStore({ table: TABLE, region: 'us-east-1', endpoint: dynamoEndpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const ledger = (await store.getLedger(name))!;
    await store.close();
    expect(ledger.generations.map((g) => g.state)).toEqual(['disabled', 'active']); // the soak disabled the old key
    const exported = JSON.parse(readFileSync(path.join(org.dir, 'state', 'ledgers', `${name}.json`), 'utf8'));
    expect(exported).toEqual(ledger);
  });

  it('4b. GIVEN the state in T\'s table WHEN the CI identity only reads it (status, runs, logs, approvals, audit verify, fleet plan) THEN each command reaches the table as T\'s state role, like the commands that act', async () => {
    const name = org.ws.keyringNames[0]!;
    mkdirSync(org.ws.approvalsDir, { recursive: true }); // no one has signed yet
    const reads = [['status'], ['status', `latest:${name}`], ['runs'], ['logs', `latest:${name}`], ['approvals', `latest:${name}`], ['audit', 'verify'], ['fleet', 'plan', '--all']];
    for (const args of reads) {
      org.emulator.clearCallLog();
      const result = await org.rotate(args, dynamo());
      // status of a run waiting at its gate exits with its waiting code; none of them fails.
      expect({ args, failed: result.code >= ExitCode.operatorError && result.code < ExitCode.waitingTime, err: result.err }).toEqual({ args, failed: false, err: expect.not.stringContaining('AccessDenied') });
      const assumed = org.emulator.callLog().filter((c) => c.operation === 'AssumeRole').map((c) => `${c.caller} → ${c.target}`);
      expect({ args, assumed }).toEqual({ args, assumed: [`${org.ws.ci.sessionArn} → arn:aws:iam::${T}:role/keyrotor-pipeline`] });
      // Reading acts on no key: no KMS call.
      expect(org.emulator.callLog().filter((c) => c.service === 'kms')).toEqual([]);
    }
  });

  it('4c. GIVEN an auditor in T who may not assume the state role (it manages keys) WHEN they read THEN the reads go through their own credentials, with one note saying so; nothing else is assumed', async () => {
    const name = org.ws.keyringNames[0]!;
    org.emulator.addPrincipal('AKIAAUDITOR00000001', `arn:aws:iam::${T}:user/auditor`);
    const auditor = { ...dynamo(), AWS_ACCESS_KEY_ID: 'AKIAAUDITOR00000001', AWS_SECRET_ACCESS_KEY: 'auditor' };
    for (const args of [['status', `latest:${name}`], ['audit', 'verify'], ['approvals', `latest:${name}`]]) {
      org.emulator.clearCallLog();
      const result = await org.rotate(args, auditor);
      expect({ args, failed: result.code >= ExitCode.operatorError && result.code < ExitCode.waitingTime }).toEqual({ args, failed: false });
      expect(result.err.match(/reading the state table with the starting credentials instead/g)).toHaveLength(1);
      expect(result.err).toContain(`cannot act as arn:aws:iam::${T}:role/keyrotor-pipeline`);
      expect(org.emulator.callLog().filter((c) => c.operation === 'AssumeRole' && c.outcome === 'ok')).toEqual([]);
    }
  });

  it('5. GIVEN the export WHEN synth runs with no credentials and the table unreachable THEN the stacks declare the recorded generations and assume B\'s role', async () => {
    const out = path.join(org.dir, 'synth-out');
    const result = await bare(['synth', '-o', out], { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1', AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:1' });
    expect(result.code).toBe(0);
    const stack = JSON.parse(readFileSync(path.join(out, 'stacks', `keys-${B}-eu-west-1`, 'cdk.tf.json'), 'utf8'));
    expect(Object.keys(stack.resource.aws_kms_key)).toHaveLength(2);
    expect(stack.provider.aws[0].assume_role).toEqual([{ role_arn: `arn:aws:iam::${B}:role/keyrotor-pipeline`, session_name: 'keyrotor-terraform' }]);
    expect(existsSync(path.join(out, 'stacks', `keyrotor-pipeline-${T}-us-east-1`))).toBe(false);
  });

  it('GIVEN a team config whose ledger export is missing WHEN synth THEN it refuses, naming the directory and how to create it', async () => {
    const { rm, rename } = await import('node:fs/promises');
    const moved = path.join(org.dir, 'state-moved');
    await rename(path.join(org.dir, 'state'), moved);
    try {
      const result = await bare(['synth', '-o', path.join(org.dir, 'synth-missing')], {});
      expect(result.code).toBe(ExitCode.operatorError);
      expect(result.err).toContain(`the ledger export ${path.join(org.dir, 'state')} (state.exportDir) does not exist`);
      expect(result.err).toContain('rotate bootstrap');
    } finally {
      await rm(path.join(org.dir, 'state'), { recursive: true, force: true });
      await rename(moved, path.join(org.dir, 'state'));
    }
  });
});
