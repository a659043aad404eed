/**
 * What only the DynamoDB store has to prove, against dynalite: the table is created idempotently,
 * a removed audit item (the tail included) is detected through the head item, corrupt items are
 * named, and a missing table is an operator error saying what to create.
 */
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { StateError } from '../../pipeline/errors';
import { DynamoDbStateStore } from '../../pipeline/state/dynamodb-store';
import { openStateStore } from '../../pipeline/state/open';
import { dynamoDbStoreFactory, sampleRun } from './harness';

describe('DynamoDbStateStore', () => {
  const factory = dynamoDbStoreFactory();
  let endpoint: string;
  let raw: DynamoDBClient;

  beforeAll(async () => {
    await factory.setUp();
    const probe = (await factory.open(factory.newLocation())) as DynamoDbStateStore;
    endpoint = probe.description.replace(/^.* at /, '');
    raw = new DynamoDBClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterAll(async () => {
    raw.destroy();
    await factory.tearDown();
  });

  it('GIVEN an existing table WHEN ensureTable runs again THEN nothing changes and data stays', async () => {
    const location = factory.newLocation();
    const store = (await factory.open(location)) as DynamoDbStateStore;
    await store.putRun(sampleRun());
    await store.ensureTable();
    expect((await store.getRun('run-1'))?.version).toBe(1);
  });

  it('GIVEN the last audit item deleted WHEN verified THEN the head item exposes the removed tail', async () => {
    const location = factory.newLocation();
    const store = await factory.open(location);
    for (const action of ['a', 'b', 'c']) await store.appendAudit({ actor: 'alice', action });
    await raw.send(new DeleteItemCommand({ TableName: location.id, Key: { pk: { S: 'AUDIT' }, sk: { S: '000000000003' } } }));
    expect((await store.verifyAudit()).problem).toEqual({ seq: 3, reason: 'the log ends at entry 2 but the head records entry 3: the tail was removed' });
    await expect(store.appendAudit({ actor: 'mallory', action: 'cover.up' })).rejects.toThrow(/head records entry 3: entries were removed/);
  });

  it('GIVEN a middle audit item deleted WHEN verified THEN the missing seq is reported', async () => {
    const location = factory.newLocation();
    const store = await factory.open(location);
    for (const action of ['a', 'b', 'c']) await store.appendAudit({ actor: 'alice', action });
    await raw.send(new DeleteItemCommand({ TableName: location.id, Key: { pk: { S: 'AUDIT' }, sk: { S: '000000000002' } } }));
    expect((await store.verifyAudit()).problem?.seq).toBe(2);
  });

  it('GIVEN a run item whose document is not JSON WHEN read THEN a StateError names the item and the table', async () => {
    const location = factory.newLocation();
    const store = await factory.open(location);
    await raw.send(new PutItemCommand({ TableName: location.id, Item: { pk: { S: 'RUN' }, sk: { S: 'run-9' }, version: { N: '1' }, doc: { S: '{oops' } } }));
    await expect(store.getRun('run-9')).rejects.toThrow(new RegExp(`run run-9 in item RUN / run-9 of DynamoDB table ${location.id} is not valid: it is not JSON`));
  });

  it('GIVEN a table that does not exist WHEN the store is used THEN an operator StateError says which table to create', async () => {
    const store = new DynamoDbStateStore({ table: 'no-such-table', region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const error = (await store.getLedger('identity-center').catch((e: unknown) => e)) as StateError;
    await store.close();
    expect(error).toBeInstanceOf(StateError);
    expect(error.fault).toBe('operator');
    expect(error.message).toMatch(/DynamoDB GetItem .* failed: table no-such-table does not exist/);
    expect(error.nextStep).toMatch(/create the table no-such-table/);
  });

  it('GIVEN a dynamodb state config WHEN opened THEN the DynamoDB store is used, at the endpoint from the environment', async () => {
    const location = factory.newLocation();
    const seeded = await factory.open(location);
    await seeded.putRun(sampleRun('run-7'));
    const store = await openStateStore(
      { type: 'dynamodb', table: location.id, region: 'us-east-1' },
      { env: { AWS_ENDPOINT_URL_DYNAMODB: endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } },
    );
    expect(store.description).toBe(`DynamoDB table ${location.id} in us-east-1 at ${endpoint}`);
    expect((await store.listRuns()).map((r) => r.id)).toEqual(['run-7']);
    await store.close();
  });

  it('GIVEN a dynamodb state config and a state-dir override WHEN opened THEN the file store in that directory is used', async () => {
    const store = await openStateStore({ type: 'dynamodb', table: 't', region: 'us-east-1' }, { stateDirOverride: '/tmp/keyrotor-override' });
    expect(store.description).toBe('file store at /tmp/keyrotor-override');
  });
});
