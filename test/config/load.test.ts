import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, parseConfig } from '../../pipeline/config/load';
import { APPROVAL_DEFAULTS, ROTATION_DEFAULTS } from '../../pipeline/config/schema';
import { ConfigError, KeyrotorError } from '../../pipeline/errors';
import { FIXTURE_FILE, issuesOf, parse, validConfig } from '../fixtures/config/configs';

const repoRoot = path.resolve(__dirname, '../..');
const fixtureDir = path.resolve(__dirname, '../fixtures/config');

describe('the committed example keyrings.json', () => {
  const config = loadConfig(path.join(repoRoot, 'keyrings.json'));

  it('GIVEN the example WHEN loaded THEN it declares at least 3 key rings in 2 accounts and 2 Regions', () => {
    expect(config.keyrings.length).toBeGreaterThanOrEqual(3);
    expect(new Set(config.keyrings.map((k) => k.account))).toEqual(new Set(['111111111111', '222222222222']));
    expect(new Set(config.keyrings.map((k) => k.region))).toEqual(new Set(['us-east-1', 'eu-west-1']));
  });

  it('THEN exactly one key ring is attached to the emulator\'s default Identity Center instance in 111111111111/us-east-1', () => {
    const attached = config.keyrings.filter((k) => k.identityCenter);
    expect(attached).toHaveLength(1);
    expect(attached[0]).toMatchObject({
      account: '111111111111',
      region: 'us-east-1',
      identityCenter: {
        instanceArn: 'arn:aws:sso:::instance/ssoins-7223f2cd9d6a6b51',
        identityStoreArn: 'arn:aws:identitystore::111111111111:identitystore/d-9067c0a1b2',
        organizationId: 'o-a1b2c3d4e5',
      },
      approvals: { quorum: 2, allowedSignersFile: path.join(repoRoot, 'approvers/allowed_signers') },
    });
    expect(attached[0]!.checks[0]!.command[0]).toBe('node');
  });

  it('THEN its backend is s3 with lockfile locking', () => {
    expect(config.backend).toMatchObject({ type: 's3', useLockfile: true, keyPrefix: 'keyrotor' });
  });
});

describe('defaults', () => {
  it('GIVEN a key ring that sets nothing optional WHEN loaded THEN the documented defaults apply', () => {
    const config = parse({ backend: { bucket: 'example-keyrotor-tfstate', region: 'us-east-1' }, keyrings: [validConfig().keyrings[1]] });
    const keyring = config.keyrings[0]!;
    expect(keyring.rotation).toEqual(ROTATION_DEFAULTS);
    expect(keyring.rotation).toEqual({ deletionWindowDays: 30, minimumSoakHours: 24, disableOldKeyDuringSoak: false, automaticRotationPeriodDays: 365, onDemandRotationReserve: 5 });
    expect(keyring.approvals).toEqual({ quorum: 2, lifetimeHours: 72, allowedSignersFile: '/srv/keyrotor/approvers/allowed_signers' });
    expect(keyring.checks).toEqual([]);
    expect(keyring.tags).toEqual({});
    expect(keyring.description).toContain('alias/payments');
    expect(config.version).toBe(1);
    expect(config.backend).toEqual({ type: 's3', bucket: 'example-keyrotor-tfstate', region: 'us-east-1', keyPrefix: 'keyrotor', useLockfile: true });
    expect(config.state).toEqual({ type: 'file', dir: '/srv/keyrotor/state' });
    expect(config.monitoring).toEqual({ enabled: true, snsTopicName: 'keyrotor-key-events', emailSubscriptions: [], configRules: true });
    expect(config.file).toBe(FIXTURE_FILE);
    expect(config.baseDir).toBe('/srv/keyrotor');
  });

  it('GIVEN an Identity Center attachment without options THEN it has no delegated admins and is scoped to the instance', () => {
    expect(parse(validConfig()).keyrings[0]!.identityCenter).toMatchObject({ delegatedAdminAccounts: [], scopeToInstance: true });
  });

  it('GIVEN a check without a timeout THEN it gets 120 seconds', () => {
    const raw = validConfig();
    raw.keyrings[1].checks = [{ name: 'smoke', command: ['true'] }];
    expect(parse(raw).keyrings[1]!.checks[0]!.timeoutSeconds).toBe(120);
  });

  it('GIVEN top-level defaults THEN every key ring inherits them field by field unless it sets its own', () => {
    const raw = validConfig();
    raw.defaults = { rotation: { deletionWindowDays: 14, minimumSoakHours: 6 }, approvals: { quorum: 3, allowedSignersFile: 'team/signers' } };
    raw.keyrings[1].rotation = { deletionWindowDays: 21 };
    raw.keyrings[1].approvals = { lifetimeHours: 24 };
    const [ic, payments] = parse(raw).keyrings;
    expect(ic!.rotation).toEqual({ ...ROTATION_DEFAULTS, deletionWindowDays: 14, minimumSoakHours: 6 });
    expect(ic!.approvals).toEqual({ quorum: 3, lifetimeHours: APPROVAL_DEFAULTS.lifetimeHours, allowedSignersFile: '/srv/keyrotor/team/signers' });
    expect(payments!.rotation).toEqual({ ...ROTATION_DEFAULTS, deletionWindowDays: 21, minimumSoakHours: 6 });
    expect(payments!.approvals).toEqual({ quorum: 3, lifetimeHours: 24, allowedSignersFile: '/srv/keyrotor/team/signers' });
  });

  it('GIVEN a config file in a directory WHEN loaded THEN relative paths resolve against that directory, not the working directory', () => {
    const config = loadConfig(path.join(fixtureDir, 'minimal.json'));
    expect(config.backend).toEqual({ type: 'local', dir: path.join(fixtureDir, 'terraform-state') });
    expect(config.state).toEqual({ type: 'file', dir: path.join(fixtureDir, 'run-state') });
    expect(config.keyrings[0]!.approvals.allowedSignersFile).toBe(path.join(fixtureDir, 'signers/allowed_signers'));
  });

  it('GIVEN absolute paths THEN they are kept', () => {
    const raw = validConfig();
    raw.backend = { type: 'local', dir: '/var/tf' };
    raw.state = { type: 'file', dir: '/var/keyrotor-state' };
    const config = parse(raw);
    expect(config.backend).toEqual({ type: 'local', dir: '/var/tf' });
    expect(config.state).toEqual({ type: 'file', dir: '/var/keyrotor-state' });
  });

  it('GIVEN a DynamoDB state store (with the team-mode pipeline section it requires) THEN it is taken as declared', () => {
    const raw = validConfig();
    raw.state = { type: 'dynamodb', table: 'keyrotor-state', region: 'us-east-1' };
    raw.pipeline = { account: '111111111111', region: 'us-east-1', github: { repository: 'example-org/keyrotor' } };
    // exportDir: the ledger export synth reads (state/ beside the config, the file store's layout).
    expect(parse(raw).state).toEqual({ type: 'dynamodb', table: 'keyrotor-state', region: 'us-east-1', exportDir: '/srv/keyrotor/state' });
  });
});

describe('errors', () => {
  it('GIVEN a rule broken THEN the error is a ConfigError (operator fault) naming the file and saying what to run next', () => {
    const raw = validConfig();
    raw.keyrings[1].rotation = { deletionWindowDays: 3 };
    let caught: unknown;
    try {
      parse(raw);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toBeInstanceOf(KeyrotorError);
    expect((caught as ConfigError).fault).toBe('operator');
    expect((caught as ConfigError).message).toContain(FIXTURE_FILE);
    expect((caught as ConfigError).nextStep).toContain('rotate lint');
    expect((caught as ConfigError).issues).toEqual(['keyrings[1].rotation.deletionWindowDays: 3 is below the minimum of 7']);
  });

  it('GIVEN several problems THEN every one is reported at once', () => {
    const raw = validConfig();
    raw.keyrings[0].account = '1234';
    raw.keyrings[1].region = 'Europe';
    raw.keyrings[1].rotation = { automaticRotationPeriodDays: 5000 };
    expect(issuesOf(raw)).toEqual([
      'keyrings[0].account: "1234" is not a 12-digit AWS account id',
      'keyrings[1].region: "Europe" is not an AWS Region code like us-east-1',
      'keyrings[1].rotation.automaticRotationPeriodDays: 5000 is above the maximum of 2560',
    ]);
  });

  it('GIVEN a missing file THEN loadConfig says so and how to point at the config', () => {
    expect(() => loadConfig('/nonexistent/keyrings.json')).toThrow(ConfigError);
    expect(() => loadConfig('/nonexistent/keyrings.json')).toThrow(/file not found/);
  });

  it('GIVEN a file on disk with a broken rule THEN loadConfig reports it with the absolute file name', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-config-'));
    const file = path.join(dir, 'keyrings.json');
    const raw = validConfig();
    raw.keyrings[0].alias = 'identity-center';
    fs.writeFileSync(file, JSON.stringify(raw));
    expect(() => loadConfig(file)).toThrow(`${file}: keyrings[0].alias: "identity-center" is not a KMS alias name`);
  });

  it('GIVEN a UTF-8 byte order mark THEN the file still parses', () => {
    expect(parseConfig(`\uFEFF${JSON.stringify(validConfig())}`, FIXTURE_FILE).keyrings).toHaveLength(2);
  });
});

describe('malformed JSON', () => {
  const messageFor = (text: string): string => {
    try {
      parseConfig(text, FIXTURE_FILE);
    } catch (error) {
      return (error as ConfigError).issues.join('\n');
    }
    throw new Error('expected a ConfigError');
  };

  it('GIVEN a missing value THEN the line and column of the offending character are given', () => {
    expect(messageFor('{\n  "version": 1,\n  "keyrings": }')).toMatch(/^malformed JSON at line 3, column 15: unexpected character "}"/);
  });

  it('GIVEN a trailing comma THEN it is named with its position', () => {
    expect(messageFor('{\n  "version": 1,\n}')).toBe('malformed JSON at line 2, column 15: trailing comma before "}" (JSON allows none)');
  });

  it('GIVEN an empty file THEN it says the file holds no JSON', () => {
    expect(messageFor('  \n')).toMatch(/line 2, column 1: the file holds no JSON value/);
  });

  it('GIVEN a JSON value that is not an object THEN the root is named', () => {
    expect(messageFor('[1, 2]')).toBe('(config): is an array, expected an object');
  });
});
