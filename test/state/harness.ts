/**
 * Test harness for the StateStore suites: fixtures (a ledger, a run) and factories that open each
 * store implementation fresh — the file store in a temp directory, the DynamoDB store on a new table
 * of an in-memory dynalite server the test starts itself on a free port.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Server } from 'node:http';
import type { Ledger } from '../../pipeline/ledger/types';
import { DynamoDbStateStore } from '../../pipeline/state/dynamodb-store';
import { FileStateStore } from '../../pipeline/state/file-store';
import type { Run, StateStore } from '../../pipeline/state/types';

export function sampleLedger(keyring = 'identity-center', version = 0): Ledger {
  return {
    keyring,
    version,
    updatedAt: '2026-01-01T00:00:00.000Z',
    identityCenter: { keyType: 'AWS_OWNED_KMS_KEY' },
    generations: [
      {
        generation: 1,
        keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
        keyArn: 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        state: 'active',
        origin: 'adopted',
        createdAt: '2026-01-01T00:00:00.000Z',
        stateChangedAt: '2026-01-01T00:00:00.000Z',
      },
    ],
  };
}

export function sampleRun(id = 'run-1', keyring = 'identity-center', version = 0): Run {
  return {
    id,
    kind: 'rotate',
    keyring,
    initiator: 'arn:aws:iam::111111111111:role/operator',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    status: 'open',
    plan: {
      kind: 'rotate',
      keyring,
      account: '111111111111',
      region: 'us-east-1',
      alias: 'alias/identity-center',
      oldKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      deletionWindowDays: 30,
      minimumSoakHours: 24,
      stages: ['preflight', 'create-key'],
    },
    planDigest: 'a'.repeat(64),
    stages: [
      { name: 'preflight', status: 'pending', attempts: 0, mutations: [] },
      { name: 'create-key', status: 'pending', attempts: 0, mutations: [] },
    ],
    approvals: [],
    version,
  };
}

/** A settable clock, so lease expiry is tested without waiting. */
export class TestClock {
  private current: number;
  constructor(start = Date.parse('2026-01-01T00:00:00.000Z')) {
    this.current = start;
  }
  now = (): Date => new Date(this.current);
  advance(ms: number): void {
    this.current += ms;
  }
}

export interface StoreFactory {
  readonly name: string;
  /** Opens a new, empty store; a second call with the same `shared` handle opens another instance on the same data. */
  open(shared: SharedLocation, clock?: TestClock, options?: { isAlive?: (pid: number) => boolean }): Promise<StateStore>;
  newLocation(): SharedLocation;
  /** Writes a record as a hand edit would: straight to the backend, bypassing every check. */
  writeRaw(shared: SharedLocation, kind: 'ledger' | 'run', id: string, doc: unknown): Promise<void>;
  /** Deletes a record straight from the backend. */
  removeRaw(shared: SharedLocation, kind: 'ledger' | 'run', id: string): Promise<void>;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
}

export interface SharedLocation {
  readonly id: string;
}

const createDynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

export function fileStoreFactory(): StoreFactory {
  const dirs: string[] = [];
  return {
    name: 'FileStateStore',
    newLocation() {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrotor-state-'));
      dirs.push(dir);
      return { id: dir };
    },
    async open(location, clock, options = {}) {
      return new FileStateStore(location.id, { ...(clock ? { now: clock.now } : {}), lock: { onNote: () => undefined, ...(options.isAlive ? { isAlive: options.isAlive } : {}) } });
    },
    async writeRaw(location, kind, id, doc) {
      const dir = path.join(location.id, kind === 'ledger' ? 'ledgers' : 'runs');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `${id}.json`), JSON.stringify(doc, null, 2));
    },
    async removeRaw(location, kind, id) {
      rmSync(path.join(location.id, kind === 'ledger' ? 'ledgers' : 'runs', `${id}.json`), { force: true });
    },
    async setUp() {},
    async tearDown() {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function dynamoDbStoreFactory(): StoreFactory {
  let server: Server | undefined;
  let endpoint = '';
  let tables = 0;
  const opened: StateStore[] = [];
  const rawClient = () => new DynamoDBClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  return {
    name: 'DynamoDbStateStore',
    newLocation() {
      tables += 1;
      return { id: `keyrotor-state-${tables}` };
    },
    async open(location, clock, options = {}) {
      const store = new DynamoDbStateStore({
        table: location.id,
        region: 'us-east-1',
        endpoint,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        ...(clock ? { now: clock.now } : {}),
        ...(options.isAlive ? { isAlive: options.isAlive } : {}),
      });
      await store.ensureTable();
      opened.push(store);
      return store;
    },
    async writeRaw(location, kind, id, doc) {
      const client = rawClient();
      const version = (doc as { version?: number }).version ?? 1;
      await client.send(new PutItemCommand({ TableName: location.id, Item: { pk: { S: kind === 'ledger' ? 'LEDGER' : 'RUN' }, sk: { S: id }, version: { N: String(version) }, doc: { S: JSON.stringify(doc) } } }));
      client.destroy();
    },
    async removeRaw(location, kind, id) {
      const client = rawClient();
      await client.send(new DeleteItemCommand({ TableName: location.id, Key: { pk: { S: kind === 'ledger' ? 'LEDGER' : 'RUN' }, sk: { S: id } } }));
      client.destroy();
    },
    async setUp() {
      server = createDynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async tearDown() {
      await Promise.all(opened.map((s) => s.close()));
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}
