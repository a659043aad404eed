/**
 * The team StateStore: one DynamoDB table, so several operators and CI jobs share ledgers, runs,
 * leases and one audit chain.
 *
 * Item design (partition key `pk`, sort key `sk`, both strings):
 *   LEDGER / <keyring>      version (N), doc (S: the ledger as JSON)
 *   RUN    / <run id>      version (N), doc (S); while a process acts on the run also its
 *                          execution lock: lockToken (S), lockExpiresAtMs (N), lockDoc (S)
 *   LEASE  / <keyring>      runId, holder, expiresAtMs (N), doc
 *   AUDIT  / <seq, 12 digits zero-padded>   seq (N), doc
 *   AUDIT_HEAD / head       seq (N), hash (S)
 * One partition per kind lets `list*` be a Query instead of a Scan; the volumes are tiny.
 * Documents are stored as JSON strings: nothing queries inside them, and it keeps the marshalling
 * trivial and lossless.
 *
 * Concurrency: ledger and run writes are conditional on `version`; a run write made under an
 * execution lock is also conditional on `lockToken` (the fence: the lock lives in the run's own
 * item, so the check and the write are one atomic operation). A fenced ledger write reads the
 * run's lock first (dynalite has no transactions to make that atomic; the ledger's version
 * condition still stops a lost update). A lease is a conditional put
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
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { z } from 'zod';
import { mapAwsError } from '../aws/map-error';
import { KeyrotorError, StateError } from '../errors';
import type { Ledger } from '../ledger/types';
import { chainAuditEntry, verifyAuditChain } from './audit-chain';
import { processIsAlive } from './file-lock';
import { assertStoredUnder, auditEntrySchema, leaseSchema, ledgerSchema, parseStored, parseStoredJson, runLockSchema, runSchema, type RecordSource } from './schemas';
import {
  assertFence,
  assertHeadNotAhead,
  assertSafeName,
  assertWritableVersion,
  judgeLease,
  matchesRunFilter,
  newRunLock,
  runBusy,
  runLockBlocks,
  runMustExistBeforeLease,
  versionConflict,
  type VersionedKind,
} from './store-rules';
import type { AuditEntry, AuditHead, AuditRange, AuditVerification, Lease, LockHolder, NewAuditEntry, Run, RunLock, RunRef, StateStore } from './types';

export interface DynamoDbStateStoreOptions {
  readonly table: string;
  readonly region: string;
  /** Explicit endpoint (dynalite, DynamoDB Local); default: the SDK's resolution (AWS_ENDPOINT_URL_DYNAMODB …). */
  readonly endpoint?: string;
  /** Explicit credentials, or a provider of them (the team account's state role); default: the SDK's provider chain. */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** A ready client (tests, custom middleware); `endpoint`/`credentials` are then ignored. */
  readonly client?: DynamoDBClient;
  /** Clock for lease expiry and audit times. Default: the system clock. */
  readonly now?: () => Date;
  /** How many times an audit append re-reads the tail after losing a race. Default 100. */
  readonly maxAppendAttempts?: number;
  /** Tells whether a pid on this host still runs (execution-lock takeover). Default: signal 0. */
  readonly isAlive?: (pid: number) => boolean;
}

const PK = { ledger: 'LEDGER', run: 'RUN', lease: 'LEASE', audit: 'AUDIT', auditHead: 'AUDIT_HEAD' } as const;
const HEAD_SK = 'head';
const SEQ_DIGITS = 12;

type Item = Record<string, AttributeValue>;

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const key = (pk: string, sk: string): Item => ({ pk: s(pk), sk: s(sk) });
const seqKey = (seq: number): string => String(seq).padStart(SEQ_DIGITS, '0');
const MAX_SEQ = 10 ** SEQ_DIGITS - 1;

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
  private readonly isAlive: (pid: number) => boolean;

  constructor(options: DynamoDbStateStoreOptions) {
    this.isAlive = options.isAlive ?? processIsAlive;
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
    const sk = assertSafeName('key ring', keyring);
    const ledger = await this.getDoc(PK.ledger, sk, ledgerSchema, `the ledger of key ring ${keyring}`);
    return ledger && this.ledgerStoredUnder(ledger, sk);
  }

  async putLedger(ledger: Ledger, fence?: RunLock): Promise<Ledger> {
    if (fence) assertFence(await this.getRunLock({ id: fence.runId, keyring: fence.keyring }), fence);
    return this.conditionalPut('ledger', PK.ledger, assertSafeName('key ring', ledger.keyring), ledger, ledgerSchema);
  }

  async listLedgers(): Promise<Ledger[]> {
    const items = await this.queryAll(PK.ledger);
    return items.map((item) => {
      const sk = item.sk?.S ?? '?';
      return this.ledgerStoredUnder(this.docOf(item, ledgerSchema, `the ledger of key ring ${sk}`), sk);
    });
  }

  /** The ledger of item LEDGER / `sk`, refused when it names another key ring (see assertStoredUnder). */
  private ledgerStoredUnder(ledger: Ledger, sk: string): Ledger {
    return assertStoredUnder(ledger, 'keyring', sk, `the item key ${PK.ledger} / ${sk}`, this.source(PK.ledger, sk, `the ledger of key ring ${sk}`));
  }

  async getRun(id: string): Promise<Run | undefined> {
    const run = await this.getDoc(PK.run, assertSafeName('run id', id), runSchema, `run ${id}`);
    return run && this.runStoredUnder(run, id);
  }

  /** The run of item RUN / `sk`, refused when it carries another id (a copied item would act as another run). */
  private runStoredUnder(run: Run, sk: string): Run {
    return assertStoredUnder(run, 'id', sk, `the item key ${PK.run} / ${sk}`, this.source(PK.run, sk, `run ${sk}`));
  }

  async putRun(run: Run, fence?: RunLock): Promise<Run> {
    const id = assertSafeName('run id', run.id);
    const given = assertWritableVersion('run', id, run.version);
    if (given === 0) return this.conditionalPut('run', PK.run, id, run, runSchema);
    const written = { ...run, version: given + 1 };
    this.validateWrite(written, runSchema, PK.run, id);
    try {
      // UpdateItem, not PutItem: the item also carries the execution lock, which a write must keep.
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key(PK.run, id),
          UpdateExpression: 'SET #version = :next, #doc = :doc',
          ConditionExpression: `#version = :given${fence ? ' AND lockToken = :token' : ''}`,
          ExpressionAttributeNames: { '#version': 'version', '#doc': 'doc' },
          ExpressionAttributeValues: { ':given': n(given), ':next': n(written.version), ':doc': s(JSON.stringify(written)), ...(fence ? { ':token': s(fence.token) } : {}) },
        }),
      );
      return written;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw this.failure(`UpdateItem (run ${id})`, error);
      if (fence) assertFence(await this.getRunLock(run), fence);
      const current = await this.getRun(id);
      throw versionConflict('run', id, current?.version ?? 0, given);
    }
  }

  async listRuns(filter?: { keyring?: string; open?: boolean }): Promise<Run[]> {
    const items = await this.queryAll(PK.run);
    return items
      .map((item) => this.runStoredUnder(this.docOf(item, runSchema, `run ${item.sk?.S ?? '?'}`), item.sk?.S ?? '?'))
      .filter((run) => matchesRunFilter(run, filter))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  // ---- leases ----------------------------------------------------------------------------

  async acquireLease(keyring: string, runId: string, holder: string, ttlMs: number): Promise<Lease> {
    assertSafeName('key ring', keyring);
    assertSafeName('run id', runId);
    if ((await this.getRun(runId)) === undefined) throw runMustExistBeforeLease(runId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.now();
      const existing = await this.getLease(keyring);
      const judged = await judgeLease({ keyring, runId, holder, ttlMs, now, where: this.description }, existing, (id) => this.getRun(id));
      if ('keep' in judged) return judged.keep;
      const lease = judged.write;
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: { ...key(PK.lease, keyring), runId: s(runId), holder: s(holder), expiresAtMs: n(Date.parse(lease.expiresAt)), doc: s(JSON.stringify(lease)) },
            // Only over the lease that was judged: nobody took it in between.
            ...(existing
              ? { ConditionExpression: 'runId = :judged', ExpressionAttributeValues: { ':judged': s(existing.runId) } }
              : { ConditionExpression: 'attribute_not_exists(pk)' }),
          }),
        );
        return lease;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw this.failure('PutItem (lease)', error);
        // Someone changed the lease between the read and the write: judge again.
      }
    }
    throw new StateError(`the lease of key ring ${keyring} kept changing while run ${runId} tried to take it`, {
      fault: 'aws',
      retryable: true,
      nextStep: 'run the command again; `rotate status` shows which run holds the key ring',
    });
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
    return this.getDoc(PK.lease, assertSafeName('key ring', keyring), leaseSchema, `the lease of key ring ${keyring}`);
  }

  // ---- execution locks -------------------------------------------------------------------

  async acquireRunLock(run: RunRef, holder: LockHolder, ttlMs: number): Promise<RunLock> {
    const id = assertSafeName('run id', run.id);
    const now = this.now();
    const existing = await this.getRunLock(run);
    if (existing && runLockBlocks(existing, now, this.isAlive)) throw runBusy(existing);
    const lock = newRunLock(run, holder, ttlMs, now);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key(PK.run, id),
          UpdateExpression: 'SET lockToken = :token, lockExpiresAtMs = :expires, lockDoc = :doc',
          // Over exactly the lock that was judged free (or none): two takers cannot both win.
          ConditionExpression: existing ? 'lockToken = :judged' : 'attribute_exists(pk) AND attribute_not_exists(lockToken)',
          ExpressionAttributeValues: {
            ':token': s(lock.token),
            ':expires': n(Date.parse(lock.expiresAt)),
            ':doc': s(JSON.stringify(lock)),
            ...(existing ? { ':judged': s(existing.token) } : {}),
          },
        }),
      );
      return lock;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw this.failure(`UpdateItem (execution lock of run ${id})`, error);
      const now2 = await this.getRunLock(run);
      if (now2) throw runBusy(now2);
      throw new StateError(`run ${id} is not in the ${this.description}`, { fault: 'operator', nextStep: 'list runs with `rotate status`' });
    }
  }

  async renewRunLock(lock: RunLock, ttlMs: number): Promise<RunLock> {
    const renewed = { ...lock, expiresAt: new Date(this.now().getTime() + ttlMs).toISOString() };
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key(PK.run, assertSafeName('run id', lock.runId)),
          UpdateExpression: 'SET lockExpiresAtMs = :expires, lockDoc = :doc',
          ConditionExpression: 'lockToken = :token',
          ExpressionAttributeValues: { ':expires': n(Date.parse(renewed.expiresAt)), ':doc': s(JSON.stringify(renewed)), ':token': s(lock.token) },
        }),
      );
      return renewed;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw this.failure(`UpdateItem (renew execution lock of run ${lock.runId})`, error);
      assertFence(await this.getRunLock({ id: lock.runId, keyring: lock.keyring }), lock);
      return renewed; // unreachable: assertFence throws when the token differs
    }
  }

  async releaseRunLock(lock: RunLock): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key(PK.run, assertSafeName('run id', lock.runId)),
          UpdateExpression: 'REMOVE lockToken, lockExpiresAtMs, lockDoc',
          ConditionExpression: 'lockToken = :token',
          ExpressionAttributeValues: { ':token': s(lock.token) },
        }),
      );
    } catch (error) {
      // Idempotent: a lock already released, or taken over, is left alone.
      if (!(error instanceof ConditionalCheckFailedException)) throw this.failure(`UpdateItem (release execution lock of run ${lock.runId})`, error);
    }
  }

  async getRunLock(run: RunRef): Promise<RunLock | undefined> {
    const id = assertSafeName('run id', run.id);
    let item: Item | undefined;
    try {
      item = (await this.client.send(new GetItemCommand({ TableName: this.table, Key: key(PK.run, id), ConsistentRead: true }))).Item;
    } catch (error) {
      throw this.failure(`GetItem (execution lock of run ${id})`, error);
    }
    const text = item?.lockDoc?.S;
    if (text === undefined) return undefined;
    return parseStoredJson(runLockSchema, text, this.source(PK.run, id, `the execution lock of run ${id}`));
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

  async auditHead(): Promise<AuditHead | undefined> {
    return this.readAuditHead();
  }

  async readAudit(range: AuditRange = {}): Promise<AuditEntry[]> {
    const items = await this.queryAll(PK.audit, range);
    return items.map((item) => this.docOf(item, auditEntrySchema, `audit entry ${item.sk?.S ?? '?'}`));
  }

  async verifyAudit(range: AuditRange = {}): Promise<AuditVerification> {
    // Head first: entries appended after this read only lengthen the log, never fail the check.
    const head = await this.readAuditHead();
    const fromSeq = range.fromSeq ?? 1;
    let entries: AuditEntry[];
    try {
      entries = await this.readAudit({ fromSeq: Math.max(1, fromSeq - 1), ...(range.toSeq !== undefined ? { toSeq: range.toSeq } : {}) });
    } catch (error) {
      if (!(error instanceof StateError)) throw error;
      return { ok: false, entries: 0, problem: { seq: fromSeq, reason: error.message } };
    }
    const anchor = fromSeq > 1 ? entries.find((e) => e.seq === fromSeq - 1) : undefined;
    if (fromSeq > 1 && anchor === undefined) {
      return { ok: false, entries: 0, problem: { seq: fromSeq - 1, reason: `entry ${fromSeq - 1}, which entry ${fromSeq} links to, is missing` } };
    }
    const inRange = anchor ? entries.filter((e) => e !== anchor) : entries;
    const reachesEnd = range.toSeq === undefined || (head !== undefined && range.toSeq >= head.seq);
    return verifyAuditChain(inRange, reachesEnd ? head : undefined, anchor);
  }

  /** Every DynamoDB write is durable when it returns. */
  async sync(): Promise<void> {}

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

  private async getDoc<T>(pk: string, sk: string, schema: z.ZodType<T>, what: string): Promise<T | undefined> {
    let item: Item | undefined;
    try {
      item = (await this.client.send(new GetItemCommand({ TableName: this.table, Key: key(pk, sk), ConsistentRead: true }))).Item;
    } catch (error) {
      throw this.failure(`GetItem (${pk} ${sk})`, error);
    }
    return item ? this.docOf(item, schema, what) : undefined;
  }

  private source(pk: string, sk: string, what: string): RecordSource {
    return {
      what,
      where: `item ${pk} / ${sk} of DynamoDB table ${this.table}`,
      fix: 'restore the item from a point-in-time backup of the table (or correct the field named above), then run the command again',
    };
  }

  private docOf<T>(item: Item, schema: z.ZodType<T>, what: string): T {
    const source = this.source(item.pk?.S ?? '?', item.sk?.S ?? '?', what);
    const text = item.doc?.S;
    if (text === undefined) return parseStored(schema, undefined, { ...source, what: `${what} (it has no \`doc\` attribute)` });
    return parseStoredJson(schema, text, source);
  }

  private validateWrite(doc: unknown, schema: z.ZodType<unknown>, pk: string, sk: string): void {
    parseStored(schema, doc, this.source(pk, sk, `the record about to be written`));
  }

  private async conditionalPut<T extends { readonly version: number }>(kind: VersionedKind, pk: string, sk: string, doc: T, schema: z.ZodType<T>): Promise<T> {
    const given = assertWritableVersion(kind, sk, doc.version);
    const written = { ...doc, version: given + 1 };
    this.validateWrite(written, schema, pk, sk);
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
      const current = await this.getDoc(pk, sk, schema, `${kind} ${sk}`);
      throw versionConflict(kind, sk, current?.version ?? 0, given);
    }
  }

  /** Every item of a partition; for the audit partition, optionally only a seq range. */
  private async queryAll(pk: string, range: AuditRange = {}): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    const ranged = range.fromSeq !== undefined || range.toSeq !== undefined;
    do {
      let out;
      try {
        out = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: ranged ? 'pk = :pk AND sk BETWEEN :from AND :to' : 'pk = :pk',
            ExpressionAttributeValues: {
              ':pk': s(pk),
              ...(ranged ? { ':from': s(seqKey(range.fromSeq ?? 1)), ':to': s(seqKey(Math.min(range.toSeq ?? MAX_SEQ, MAX_SEQ))) } : {}),
            },
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
      return item ? this.docOf(item, auditEntrySchema, `audit entry ${item.sk?.S ?? '?'}`) : undefined;
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

  /**
   * A DynamoDB call failed: a missing table is the operator's to create; everything else is
   * classified by the one AWS error mapping every AWS call uses.
   */
  private failure(operation: string, error: unknown): KeyrotorError {
    if (error instanceof KeyrotorError) return error;
    if (error instanceof ResourceNotFoundException) {
      return new StateError(`DynamoDB ${operation} failed: table ${this.table} does not exist (${this.description})`, {
        fault: 'operator',
        nextStep: `create the table ${this.table} (\`rotate bootstrap\`, or the team-mode stack declares it) or fix state.table in the config`,
        cause: error,
      });
    }
    return mapAwsError(error, { operation: `dynamodb:${operation}`, target: `table ${this.table}` });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
