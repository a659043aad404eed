/**
 * The team StateStore: one DynamoDB table, so several operators and CI jobs share ledgers, runs,
 * leases and one audit chain.
 *
 * Item design (partition key `pk`, sort key `sk`, both strings):
 *   LEDGER / <keyring>      version (N), doc (S: the ledger as JSON)
 *   RUN    / <run id>      version (N), doc (S)
 *   LEASE  / <keyring>      runId, holder, expiresAtMs (N), doc
 *   AUDIT  / <seq, 12 digits zero-padded>   seq (N), doc
 *   AUDIT_HEAD / head       seq (N), hash (S)
 * One partition per kind lets `list*` be a Query instead of a Scan; the volumes are tiny.
 * Documents are stored as JSON strings: nothing queries inside them, and it keeps the marshalling
 * trivial and lossless.
 *
 * Concurrency: ledger and run writes are conditional on `version`; a lease is a conditional put
 * (free, expired, or ours); an audit entry is a conditional put on its seq's item, so two
 * appenders racing for the same seq cannot both succeed and the chain cannot fork — the loser
 * re-reads the tail and chains after the winner. (DESIGN suggested TransactWriteItems for entry +
 * head; dynalite, which the tests use, does not implement transactions, and the conditional put
 * on the seq item already excludes forks. The head is then advanced with a monotonic conditional
 * update; a head that lags after a crash is tolerated by verification, see audit-chain.ts.)
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { StateError } from '../errors';
import type { Ledger } from '../ledger/types';
import { type AuditHead, chainAuditEntry, verifyAuditChain } from './audit-chain';
import {
  assertHeadNotAhead,
  assertSafeName,
  assertWritableVersion,
  leaseBlocks,
  leaseHeld,
  matchesRunFilter,
  newLease,
  versionConflict,
  type VersionedKind,
} from './store-rules';
import type { AuditEntry, AuditVerification, Lease, NewAuditEntry, Run, StateStore } from './types';

export interface DynamoDbStateStoreOptions {
  readonly table: string;
  readonly region: string;
  /** Explicit endpoint (dynalite, DynamoDB Local); default: the SDK's resolution (AWS_ENDPOINT_URL_DYNAMODB …). */
  readonly endpoint?: string;
  /** Explicit credentials; default: the SDK's provider chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** A ready client (tests, custom middleware); `endpoint`/`credentials` are then ignored. */
  readonly client?: DynamoDBClient;
  /** Clock for lease expiry and audit times. Default: the system clock. */
  readonly now?: () => Date;
  /** How many times an audit append re-reads the tail after losing a race. Default 100. */
  readonly maxAppendAttempts?: number;
}

const PK = { ledger: 'LEDGER', run: 'RUN', lease: 'LEASE', audit: 'AUDIT', auditHead: 'AUDIT_HEAD' } as const;
const HEAD_SK = 'head';
const SEQ_DIGITS = 12;

type Item = Record<string, AttributeValue>;

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const key = (pk: string, sk: string): Item => ({ pk: s(pk), sk: s(sk) });
const seqKey = (seq: number): string => String(seq).padStart(SEQ_DIGITS, '0');

function numberOf(item: Item, name: string): number {
  const raw = item[name]?.N;
  return raw === undefined ? 0 : Number(raw);
}

export class DynamoDbStateStore implements StateStore {
  readonly description: string;
  private readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly table: string;
  private readonly now: () => Date;
  private readonly maxAppendAttempts: number;

  constructor(options: DynamoDbStateStoreOptions) {
    this.table = options.table;
    this.description = `DynamoDB table ${options.table} in ${options.region}${options.endpoint ? ` at ${options.endpoint}` : ''}`;
    this.now = options.now ?? (() => new Date());
    this.maxAppendAttempts = options.maxAppendAttempts ?? 100;
    this.ownsClient = options.client === undefined;
    this.client =
      options.client ??
      new DynamoDBClient({
        region: options.region,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
  }

  /** Creates the table when missing (tests, the demo) and waits until it is ACTIVE. Idempotent. */
  async ensureTable(): Promise<void> {
    const status = await this.tableStatus();
    if (status === undefined) {
      try {
        await this.client.send(
          new CreateTableCommand({
            TableName: this.table,
            AttributeDefinitions: [
              { AttributeName: 'pk', AttributeType: 'S' },
              { AttributeName: 'sk', AttributeType: 'S' },
            ],
            KeySchema: [
              { AttributeName: 'pk', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
      } catch (error) {
        // Another process created it first: fine, wait for it below.
        if ((error as Error).name !== 'ResourceInUseException') throw this.failure('CreateTable', error);
      }
    }
    let delayMs = 20;
    for (let attempt = 0; attempt < 60; attempt++) {
      if ((await this.tableStatus()) === 'ACTIVE') return;
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 1000);
    }
    throw new StateError(`DynamoDB table ${this.table} did not become ACTIVE`, {
      fault: 'aws',
      retryable: true,
      nextStep: `check the table in the DynamoDB console (or \`aws dynamodb describe-table --table-name ${this.table}\`) and re-run`,
    });
  }

  // ---- ledgers and runs ------------------------------------------------------------------

  async getLedger(keyring: string): Promise<Ledger | undefined> {
    return this.getDoc<Ledger>(PK.ledger, assertSafeName('key ring', keyring));
  }

  async putLedger(ledger: Ledger): Promise<Ledger> {
    return this.conditionalPut('ledger', PK.ledger, assertSafeName('key ring', ledger.keyring), ledger);
  }

  async listLedgers(): Promise<Ledger[]> {
    const items = await this.queryAll(PK.ledger);
    return items.map((item) => this.docOf<Ledger>(item));
  }

  async getRun(id: string): Promise<Run | undefined> {
    return this.getDoc<Run>(PK.run, assertSafeName('run id', id));
  }

  async putRun(run: Run): Promise<Run> {
    return this.conditionalPut('run', PK.run, assertSafeName('run id', run.id), run);
  }

  async listRuns(filter?: { keyring?: string; open?: boolean }): Promise<Run[]> {
    const items = await this.queryAll(PK.run);
    return items
      .map((item) => this.docOf<Run>(item))
      .filter((run) => matchesRunFilter(run, filter))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  // ---- leases ----------------------------------------------------------------------------

  async acquireLease(keyring: string, runId: string, holder: string, ttlMs: number): Promise<Lease> {
    assertSafeName('key ring', keyring);
    assertSafeName('run id', runId);
    const now = this.now();
    const lease = newLease(keyring, runId, holder, ttlMs, now);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            ...key(PK.lease, keyring),
            runId: s(runId),
            holder: s(holder),
            expiresAtMs: n(Date.parse(lease.expiresAt)),
            doc: s(JSON.stringify(lease)),
          },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAtMs <= :now OR runId = :run',
          ExpressionAttributeValues: { ':now': n(now.getTime()), ':run': s(runId) },
        }),
      );
      return lease;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw this.failure('PutItem (lease)', error);
      const existing = await this.getLease(keyring);
      if (leaseBlocks(existing, runId, now)) throw leaseHeld(existing, runId);
      // Released or expired between the put and the read: the condition now holds, try once more.
      return this.acquireLease(keyring, runId, holder, ttlMs);
    }
  }

  async releaseLease(keyring: string, runId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: key(PK.lease, assertSafeName('key ring', keyring)),
          ConditionExpression: 'runId = :run',
          ExpressionAttributeValues: { ':run': s(runId) },
        }),
      );
    } catch (error) {
      // Idempotent: a lease that is gone, or that another run has since taken, is left alone.
      if (!(error instanceof ConditionalCheckFailedException)) throw this.failure('DeleteItem (lease)', error);
    }
  }

  async getLease(keyring: string): Promise<Lease | undefined> {
    return this.getDoc<Lease>(PK.lease, assertSafeName('key ring', keyring));
  }

  // ---- audit -----------------------------------------------------------------------------

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    for (let attempt = 0; attempt < this.maxAppendAttempts; attempt++) {
      // Head before tail: the head only ever trails the entries, so read in this order a correct
      // log can never look truncated to a concurrent appender.
      const head = await this.readAuditHead();
      const last = await this.lastAuditEntry();
      assertHeadNotAhead(last?.seq ?? 0, head, this.description);
      const chained = chainAuditEntry(last, entry, this.now());
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: { ...key(PK.audit, seqKey(chained.seq)), seq: n(chained.seq), doc: s(JSON.stringify(chained)) },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          await sleep(Math.random() * 5 * (attempt + 1)); // lost the race for this seq; jitter, then chain after the winner
          continue;
        }
        throw this.failure('PutItem (audit entry)', error);
      }
      await this.advanceHead({ seq: chained.seq, hash: chained.hash });
      return chained;
    }
    throw new StateError(`could not append to the audit log in ${this.description}: lost the race ${this.maxAppendAttempts} times`, {
      fault: 'aws',
      retryable: true,
      nextStep: 're-run the command; if it keeps failing, look for a process appending in a loop',
    });
  }

  async readAudit(): Promise<AuditEntry[]> {
    const items = await this.queryAll(PK.audit);
    return items.map((item) => this.docOf<AuditEntry>(item));
  }

  async verifyAudit(): Promise<AuditVerification> {
    // Head first: entries appended after this read only lengthen the log, never fail the check.
    const head = await this.readAuditHead();
    const entries = await this.readAudit();
    return verifyAuditChain(entries, head);
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  // ---- internals -------------------------------------------------------------------------

  private async tableStatus(): Promise<string | undefined> {
    try {
      const out = await this.client.send(new DescribeTableCommand({ TableName: this.table }));
      return out.Table?.TableStatus;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw this.failure('DescribeTable', error);
    }
  }

  private async getDoc<T>(pk: string, sk: string): Promise<T | undefined> {
    try {
      const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: key(pk, sk), ConsistentRead: true }));
      return out.Item ? this.docOf<T>(out.Item) : undefined;
    } catch (error) {
      throw this.failure(`GetItem (${pk} ${sk})`, error);
    }
  }

  private docOf<T>(item: Item): T {
    const where = `item ${item.pk?.S ?? '?'} / ${item.sk?.S ?? '?'} of DynamoDB table ${this.table}`;
    const text = item.doc?.S;
    if (text === undefined) throw this.corrupt(where, 'it has no `doc` attribute');
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw this.corrupt(where, (error as Error).message);
    }
  }

  private corrupt(where: string, why: string): StateError {
    return new StateError(`${where} is corrupt (${why}); it was left untouched`, {
      fault: 'operator',
      nextStep: 'restore the item from a point-in-time backup of the table, then re-run the command',
    });
  }

  private async conditionalPut<T extends { readonly version: number }>(kind: VersionedKind, pk: string, sk: string, doc: T): Promise<T> {
    const given = assertWritableVersion(kind, sk, doc.version);
    const written = { ...doc, version: given + 1 };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { ...key(pk, sk), version: n(written.version), doc: s(JSON.stringify(written)) },
          ...(given === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                // `#version`: names in expressions go through placeholders so DynamoDB's reserved words never bite.
                ConditionExpression: '#version = :given',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':given': n(given) },
              }),
        }),
      );
      return written;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw this.failure(`PutItem (${kind} ${sk})`, error);
      const current = await this.getDoc<T>(pk, sk);
      throw versionConflict(kind, sk, current?.version ?? 0, given);
    }
  }

  private async queryAll(pk: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      let out;
      try {
        out = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': s(pk) },
            ConsistentRead: true,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
      } catch (error) {
        throw this.failure(`Query (${pk})`, error);
      }
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  private async lastAuditEntry(): Promise<AuditEntry | undefined> {
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': s(PK.audit) },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      );
      const item = out.Items?.[0];
      return item ? this.docOf<AuditEntry>(item) : undefined;
    } catch (error) {
      if (error instanceof StateError) throw error;
      throw this.failure('Query (last audit entry)', error);
    }
  }

  private async readAuditHead(): Promise<AuditHead | undefined> {
    try {
      const out = await this.client.send(
        new GetItemCommand({ TableName: this.table, Key: key(PK.auditHead, HEAD_SK), ConsistentRead: true }),
      );
      if (!out.Item) return undefined;
      return { seq: numberOf(out.Item, 'seq'), hash: out.Item.hash?.S ?? '' };
    } catch (error) {
      throw this.failure('GetItem (audit head)', error);
    }
  }

  /** Moves the head forward only: an appender that finished later with a lower seq leaves it alone. */
  private async advanceHead(head: AuditHead): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key(PK.auditHead, HEAD_SK),
          UpdateExpression: 'SET #seq = :seq, #hash = :hash',
          ConditionExpression: 'attribute_not_exists(#seq) OR #seq < :seq',
          ExpressionAttributeNames: { '#seq': 'seq', '#hash': 'hash' },
          ExpressionAttributeValues: { ':seq': n(head.seq), ':hash': s(head.hash) },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw this.failure('UpdateItem (audit head)', error);
    }
  }

  private failure(operation: string, error: unknown): StateError {
    const name = (error as { name?: string }).name ?? 'Error';
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const transient = /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|InternalServerError|ServiceUnavailable/.test(name) || (status ?? 0) >= 500;
    const missingTable = error instanceof ResourceNotFoundException;
    return new StateError(`DynamoDB ${operation} on table ${this.table} failed: ${name}: ${(error as Error).message}`, {
      fault: missingTable ? 'operator' : 'aws',
      retryable: transient,
      nextStep: missingTable
        ? `create the table ${this.table} (the team-mode stack declares it) or fix state.table in the config`
        : transient
          ? 're-run the command; DynamoDB was busy'
          : 'check the credentials and the table, then re-run the command',
      cause: error,
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
