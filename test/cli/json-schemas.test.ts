/**
 * `--json` is a versioned contract: every command prints exactly one JSON document on stdout,
 * valid against its schema in schemas/cli/v1/ (and every variant of every schema is seen here), the
 * stored schema files are what json/schemas.ts generates, and failures are JSON too.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { COMMAND_SCHEMAS, schemaNameOf, type SchemaName } from '../../scripts/cli/json/schemas';
import { SCHEMA_DIR, schemaFileText } from '../../scripts/cli/json/write-schemas';
import { run as emulatorCommand } from '../../scripts/cli/commands/emulator';
import { systemCliClock } from '../../scripts/cli/main';
import { sharedWorld, type CliResult, type CliWorld } from './harness';

const root = path.resolve(__dirname, '..', '..');

/** Which variant (union member) of each schema a document matched, to prove every one was exercised. */
const seen = new Map<SchemaName, Set<number>>();

function variantsOf(schema: z.ZodType): z.ZodType[] {
  return schema instanceof z.ZodUnion ? [...(schema.options as z.ZodType[])] : [schema];
}

/** Parses stdout as exactly one JSON document and validates it against the schema its `command` names. */
function validate(result: CliResult, expectedCommand?: string): Record<string, unknown> {
  const doc = JSON.parse(result.out) as Record<string, unknown>;
  const name = 'error' in doc ? 'error' : schemaNameOf(String(doc.command));
  if (expectedCommand) expect([doc.command, 'error' in doc ? doc.error : 'no error']).toEqual([expectedCommand, 'no error']);
  const variants = variantsOf(COMMAND_SCHEMAS[name]);
  const matched = variants.findIndex((v) => v.safeParse(doc).success);
  if (matched < 0) {
    // Show why against the whole schema.
    const issues = COMMAND_SCHEMAS[name].safeParse(doc).error?.issues;
    throw new Error(`${name} output does not match schemas/cli/v1/${name}.schema.json: ${JSON.stringify(issues, null, 2).slice(0, 3000)}`);
  }
  if (!seen.has(name)) seen.set(name, new Set());
  seen.get(name)!.add(matched);
  expect(doc.version).toBe(1);
  return doc;
}

describe('the versioned JSON of every command', () => {
  const world = sharedWorld();
  let w: CliWorld;
  beforeAll(() => {
    w = world();
  });

  it('GIVEN the schema generator THEN schemas/cli/v1 holds exactly its output, one file per command and one for errors', () => {
    const dir = path.join(root, SCHEMA_DIR);
    const names = Object.keys(COMMAND_SCHEMAS) as SchemaName[];
    expect(readdirSync(dir).sort()).toEqual(names.map((n) => `${n}.schema.json`).sort());
    for (const name of names) expect(readFileSync(path.join(dir, `${name}.schema.json`), 'utf8')).toBe(schemaFileText(name));
  });

  it('GIVEN a migration, a rotation through deletion, a cancel-deletion, a cancel and a rollback THEN every document validates and carries the AWS context', async () => {
    const [first, second] = w.ws.approvers;
    const j = (...args: string[]) => w.rotate('--json', ...args);
    validate(await j('lint'), 'lint');
    validate(await j('plan', 'identity-center', '--kind', 'migrate-to-cmk'), 'plan');
    validate(await j('start', 'identity-center', '--kind', 'migrate-to-cmk', '--dry-run'), 'start');
    const started = validate(await j('start', 'identity-center', '--kind', 'migrate-to-cmk'), 'start');
    expect(started.context).toMatchObject({ emulator: true, account: '111111111111', region: 'us-east-1', callerArn: expect.stringMatching(/^arn:aws:/) });
    validate(await j('advance', 'latest', '--dry-run'), 'advance');
    const migrated = validate(await j('advance', 'latest', '--yes'), 'advance');
    expect(migrated.stopped).toMatchObject({ reason: 'completed' });
    validate(await j('status', 'latest'), 'status');
    validate(await j('status'), 'status');
    validate(await j('runs', '--all'), 'runs');
    validate(await j('logs', 'latest'), 'logs');
    validate(await j('synth', '-o', w.synthOut()), 'synth');
    const stack = path.join(w.synthOut(), 'stacks', 'keys-111111111111-us-east-1');
    const guarded = await j('plan-guard', stack, path.join(root, 'test/gitops/fixtures/plans/good-first-deploy-after-migrate.plan.json'));
    expect([0, 1]).toContain(guarded.code);
    validate(guarded, 'plan-guard');
    const drift = await j('drift', 'identity-center');
    expect([0, 1]).toContain(drift.code);
    expect(validate(drift, 'drift').context).toMatchObject({ emulator: true });

    validate(await j('start', 'identity-center', '--signing-key', w.ws.operatorKeyPath), 'start');
    const atGate = validate(await j('advance', 'latest', '--yes'), 'advance');
    expect(atGate.stopped).toMatchObject({ reason: 'waiting-people' });
    validate(await j('rollback', 'latest', '--dry-run'), 'rollback');
    const closed = await j('gate', 'latest');
    expect(closed.code).toBe(1);
    validate(closed, 'gate');
    validate(await j('approve', 'latest', '--signing-key', first!.privateKeyPath, '--as', first!.identity, '--yes'), 'approve');
    validate(await j('approve', 'latest', '--signing-key', second!.privateKeyPath, '--as', second!.identity, '--yes'), 'approve');
    validate(await j('approvals', 'latest'), 'approvals');
    validate(await j('replan', 'latest'), 'replan');
    const ready = validate(await j('advance', 'latest'), 'advance');
    expect(ready.stopped).toMatchObject({ reason: 'ready-to-delete' });
    validate(await j('delete', 'latest', '--yes'), 'delete');
    validate(await j('cancel-deletion', 'identity-center', '--generation', '1', '--dry-run'), 'cancel-deletion');
    validate(await j('cancel-deletion', 'identity-center', '--generation', '1'), 'cancel-deletion');
    validate(await j('audit', 'verify'), 'audit verify');

    validate(await j('start', 'identity-center', '--signing-key', w.ws.operatorKeyPath), 'start');
    validate(await j('cancel', 'latest'), 'cancel');
    validate(await j('start', 'identity-center', '--signing-key', w.ws.operatorKeyPath), 'start');
    validate(await j('advance', 'latest', '--yes', '--stage-limit', '3'), 'advance');
    const rolled = validate(await j('rollback', 'latest', '--yes'), 'rollback');
    expect((rolled.run as { status: string }).status).toBe('rolled-back');
  }, 60_000);

  it.each([
    [['--json', 'status', 'latest', '--bogus'], 'status'],
    [['--json', 'bogus-command'], 'bogus-command'],
    [['--json', '--wide', 'advance'], 'advance'],
    [['--json', 'audit', 'verify', '--bogus'], 'audit verify'],
    [['--state-dir=state', '--json', '-c', 'keyrings.json', 'fleet', 'advance', '--bogus'], 'fleet advance'],
  ])('GIVEN global options before the command and a command line that does not parse (rotate %j) THEN the error document names the command %j, never an option', async (args, command) => {
    const result = await w.rotate(...args);
    expect(result.code).toBe(2);
    const doc = validate(result);
    expect(doc.error).toMatchObject({ name: 'UsageError', fault: 'operator' });
    expect(doc.command).toBe(command);
  });

  it('GIVEN failures THEN stdout is the error document: a bad RUN, a bad option, and a failed stage with the run as it stood', async () => {
    const notFound = await w.rotate('--json', 'status', 'no-such-run');
    expect(notFound.code).toBe(2);
    expect(validate(notFound).error).toMatchObject({ fault: 'operator', exitCode: 2, message: expect.stringContaining('run not found') });
    const usage = await w.rotate('--json', 'advance');
    expect(usage.code).toBe(2);
    expect(validate(usage).error).toMatchObject({ name: 'UsageError', fault: 'operator' });

    await w.rotate('start', 'identity-center', '--signing-key', w.ws.operatorKeyPath);
    w.emulator.failNext('CreateKey', 1, { code: 'AccessDeniedException', message: 'User is not authorized to perform kms:CreateKey' });
    const failed = await w.rotate('--json', 'advance', 'latest', '--yes');
    expect(failed.code).toBe(2);
    const doc = validate(failed);
    expect(doc.error).toMatchObject({ message: expect.stringContaining('kms:CreateKey'), nextStep: expect.stringContaining('grant kms:CreateKey') });
    expect((doc.run as { status: string }).status).toBe('failed');
    expect(doc.context).toMatchObject({ emulator: true });
    // Progress went to stderr, not into the document.
    expect(failed.err).toContain('▶ create-key');
  });

  it('GIVEN `rotate demo --json` and `rotate emulator --json` THEN their documents validate too', async () => {
    validate(await w.rotate('--json', 'demo'), 'demo');
    const out: string[] = [];
    const exit = emulatorCommand(
      { io: { out: (t) => out.push(t), err: () => undefined, interactive: false, readLine: async () => undefined }, global: { config: 'keyrings.json', json: true, wide: false }, env: {}, cwd: w.dir, clock: systemCliClock, command: 'emulator', trace: {} },
      { port: '0' },
      [],
    );
    for (let i = 0; i < 400 && out.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
    process.emit('SIGTERM');
    expect(await exit).toBe(0);
    validate({ code: 0, out: out.join('\n'), err: '' }, 'emulator');
  }, 30_000);

  it('GIVEN the fleet and bootstrap commands THEN their documents validate too', async () => {
    const [first, second] = w.ws.approvers;
    const j = (...args: string[]) => w.rotate('--json', ...args);
    validate(await j('fleet', 'plan', '--all'), 'fleet plan');
    validate(await j('fleet', 'status', '--all'), 'fleet status');
    validate(await j('fleet', 'advance', '--all'), 'fleet advance');
    for (const approver of [first!, second!]) validate(await j('fleet', 'approve', '--all', '--signing-key', approver.privateKeyPath, '--yes'), 'fleet approve');
    validate(await j('fleet', 'delete', '--all', '--yes'), 'fleet delete');
    validate(await j('fleet', 'start', '--all', '--signing-key', w.ws.operatorKeyPath), 'fleet start');
    validate(await j('fleet', 'run', '--all'), 'fleet run');

    // Team mode: the same key ring with its state in DynamoDB and a pipeline section.
    const team = JSON.parse(readFileSync(w.ws.configPath, 'utf8')) as Record<string, unknown>;
    const teamConfig = path.join(w.dir, 'team.json');
    writeFileSync(teamConfig, JSON.stringify({ ...team, state: { type: 'dynamodb', table: 'keyrotor-state', region: 'us-east-1' }, pipeline: { account: '111111111111', region: 'us-east-1', github: { repository: 'example-org/keyrotor' } } }));
    validate(await j('--config', teamConfig, 'bootstrap', '-o', w.synthOut()), 'bootstrap');
    const check = await w.rotateWith({ env: { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1' } }, '--json', '--config', teamConfig, 'bootstrap', '--check');
    expect(check.code).toBe(1);
    validate(check, 'bootstrap');
  }, 60_000);

  it('THEN every schema, and every variant of each, was exercised by a real command', () => {
    for (const name of Object.keys(COMMAND_SCHEMAS) as SchemaName[]) {
      const variants = variantsOf(COMMAND_SCHEMAS[name]).length;
      expect([name, [...(seen.get(name) ?? [])].sort()]).toEqual([name, Array.from({ length: variants }, (_, i) => i)]);
    }
  });
});
