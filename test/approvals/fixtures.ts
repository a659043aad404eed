/**
 * Real SSH keys, certificates and runs for the approval tests. Keys are generated once per test
 * file (beforeAll) with ssh-keygen; a run is written to a real file state store together with the
 * audit entries the engine writes at start (pipeline/approvals/chain.ts), so the gate reads exactly
 * what it reads in production. Nothing here is mocked.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { canonicalJson, digestOf } from '../../pipeline/canonical-json';
import { sha256Hex } from '../../pipeline/approvals/bar';
import { keyFingerprint } from '../../pipeline/approvals/allowed-signers';
import { evidenceAuditDetail, headOf, readChain, startAuditDetail, type ChainView } from '../../pipeline/approvals/chain';
import { collectApprovals, defaultApprovalFile, writeApprovalFile } from '../../pipeline/approvals/files';
import { evaluateApprovals, type GateResult } from '../../pipeline/approvals/gate';
import { approveToFile } from '../../pipeline/approvals/approve';
import { resolveSignedInitiator, signStart } from '../../pipeline/approvals/initiator';
import { buildPayload, type ApprovalPayload } from '../../pipeline/approvals/payload';
import type { PersonGroup } from '../../pipeline/approvals/persons';
import { APPROVAL_NAMESPACE, signPayload } from '../../pipeline/approvals/ssh';
import type { KeyRingConfig, PersonConfig } from '../../pipeline/config/types';
import { FileStateStore } from '../../pipeline/state/file-store';
import type { Run, RunPlan, StoredApproval } from '../../pipeline/state/types';

export type KeyKind = 'ed25519' | 'ecdsa' | 'rsa';

export interface LabKey {
  readonly name: string;
  readonly principal: string;
  readonly privateKey: string;
  readonly publicFile: string;
  /** `type base64` */
  readonly publicKeyLine: string;
  readonly fingerprint: string;
}

export interface Lab {
  readonly dir: string;
  readonly keys: Record<string, LabKey>;
  /** An allowed_signers line: `principals [options] type base64`. */
  line(key: string, principals: string | readonly string[], options?: string): string;
  /** Signs `key`'s public key with CA key `ca` (`ssh-keygen -s`); returns the certificate path (KEY-cert.pub). */
  certify(key: string, ca: string, principals: readonly string[], validity?: string): string;
  cleanup(): void;
}

/** The cast most tests use: three approvers of three key types, the operator, an outsider and a CA. */
export const CAST: Record<string, { principal: string; type: KeyKind }> = {
  alice: { principal: 'alice@example.com', type: 'ed25519' },
  bob: { principal: 'bob@example.com', type: 'ecdsa' },
  carol: { principal: 'carol@example.com', type: 'rsa' },
  operator: { principal: 'operator@example.com', type: 'ed25519' },
  mallory: { principal: 'mallory@evil.example', type: 'ed25519' },
  ca: { principal: 'ca@example.com', type: 'ed25519' },
};

export function makeLab(specs: Record<string, { principal: string; type: KeyKind }> = CAST): Lab {
  const dir = mkdtempSync(path.join(tmpdir(), 'keyrotor-approvals-test-'));
  const keys: Record<string, LabKey> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const file = path.join(dir, name);
    const typeArgs = spec.type === 'ed25519' ? ['-t', 'ed25519'] : spec.type === 'ecdsa' ? ['-t', 'ecdsa', '-b', '256'] : ['-t', 'rsa', '-b', '2048'];
    execFileSync('ssh-keygen', ['-q', ...typeArgs, '-N', '', '-C', spec.principal, '-f', file]);
    const pub = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
    keys[name] = { name, principal: spec.principal, privateKey: file, publicFile: `${file}.pub`, publicKeyLine: `${pub[0]} ${pub[1]}`, fingerprint: keyFingerprint(pub[1]!) };
  }
  return {
    dir,
    keys,
    line(key, principals, options) {
      const list = typeof principals === 'string' ? principals : principals.join(',');
      return [list, options, keys[key]!.publicKeyLine].filter(Boolean).join(' ');
    },
    certify(key, ca, principals, validity = '-5m:+1d') {
      execFileSync('ssh-keygen', ['-q', '-s', keys[ca]!.privateKey, '-I', `${key}-cert`, '-n', principals.join(','), '-V', validity, keys[key]!.publicFile]);
      return `${keys[key]!.privateKey}-cert.pub`;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const OLD_KEY = 'arn:aws:kms:us-east-1:111111111111:key/11111111-1111-4111-8111-111111111111';
export const NEW_KEY = 'arn:aws:kms:us-east-1:111111111111:key/22222222-2222-4222-8222-222222222222';

/** The shape the engine's integration-checks stage records (check results + GetKeyLastUsage output). */
export const EVIDENCE = {
  checkedAt: '2026-11-23T09:00:00.000Z',
  checks: [
    { name: 'alias round trip', ok: true, detail: 'Encrypt/Decrypt through alias/identity-center used the new key' },
    { name: 'identity store read', ok: true, detail: 'ListUsers returned 1 user(s)' },
  ],
  oldKeyArn: OLD_KEY,
  newKeyArn: NEW_KEY,
  oldKeyLastUsage: {
    KeyId: '11111111-1111-4111-8111-111111111111',
    KeyLastUsage: { Operation: 'Decrypt', Timestamp: '2026-11-20T08:00:00.000Z', CloudTrailEventId: 'ev-123' },
    TrackingStartDate: '2026-01-01T00:00:00.000Z',
  },
};

/** A key ring config as the loader would produce it (only what the approval code reads). */
export function keyringConfig(allowedSignersFile: string, overrides: { quorum?: number; lifetimeHours?: number; deletionWindowDays?: number; minimumSoakHours?: number; disable?: boolean; pipelineRole?: string } = {}): KeyRingConfig {
  return {
    name: 'identity-center',
    alias: 'alias/identity-center',
    account: '111111111111',
    region: 'us-east-1',
    description: 'test',
    tags: {},
    keyAdministrators: ['arn:aws:iam::111111111111:role/KmsKeyAdministrator'],
    keyUsers: [],
    ...(overrides.pipelineRole ? { pipelineRole: overrides.pipelineRole } : {}),
    rotation: { deletionWindowDays: overrides.deletionWindowDays ?? 30, minimumSoakHours: overrides.minimumSoakHours ?? 24, disableOldKeyDuringSoak: overrides.disable ?? false, automaticRotationPeriodDays: 365 },
    approvals: { quorum: overrides.quorum ?? 2, allowedSignersFile, lifetimeHours: overrides.lifetimeHours ?? 72 },
    checks: [],
  };
}

/** A rotate plan of key ring identity-center with its recorded bar (allowed_signers `signersText`). */
export function basePlan(
  signersText: string,
  bar: { quorum?: number; lifetimeHours?: number; people?: PersonGroup[]; stages?: string[] },
  overrides: Partial<RunPlan> = {},
): RunPlan {
  return {
    kind: 'rotate',
    keyring: 'identity-center',
    account: '111111111111',
    region: 'us-east-1',
    alias: 'alias/identity-center',
    oldKeyArn: OLD_KEY,
    newKeyArn: NEW_KEY,
    deletionWindowDays: 30,
    minimumSoakHours: 24,
    disableOldKeyDuringSoak: false,
    approvals: {
      quorum: bar.quorum ?? 2,
      lifetimeHours: bar.lifetimeHours ?? 72,
      allowedSignersFile: 'approvers/allowed_signers',
      allowedSignersSha256: sha256Hex(signersText),
      allowedSigners: signersText,
      people: bar.people ?? [],
    },
    stages: bar.stages ?? ['preflight', 'create-key', 'approval-gate', 'schedule-deletion'],
    ...overrides,
  };
}

export interface WorldSetup {
  /** allowed_signers lines (the run records exactly this text). */
  readonly signers: readonly string[];
  readonly quorum?: number;
  readonly lifetimeHours?: number;
  readonly people?: readonly PersonConfig[];
  /** Who starts the run: a lab key signs the start (default `operator`), or nobody (`null`: only a label). */
  readonly initiatorKey?: string | null;
  /** What signs the start instead of the initiator key's private file (e.g. its certificate). */
  readonly initiatorSignWith?: string;
  readonly label?: string;
  readonly evidence?: Record<string, unknown> | null;
  readonly plan?: Partial<RunPlan>;
}

export interface World {
  readonly dir: string;
  readonly store: FileStateStore;
  readonly approvalsDir: string;
  readonly signersText: string;
  run(): Promise<Run>;
  chain(): Promise<ChainView>;
  evaluate(now?: Date): Promise<GateResult>;
  /** What `rotate approve --yes` does: check, sign, write `<approvalsDir>/<run>/<fingerprint>.json`. */
  approve(key: string, options?: { as?: string; now?: Date; signWith?: string; name?: string }): Promise<{ file: string; approval: StoredApproval }>;
  /** A hand-made approval (for refusals the CLI would never produce), written into the approvals dir. */
  craft(key: string, options?: { approver?: string; change?: (p: ApprovalPayload) => Record<string, unknown>; namespace?: string; signer?: string; signWith?: string; name?: string; now?: Date }): Promise<StoredApproval>;
  close(): Promise<void>;
}

let worldNo = 0;

export async function openWorld(lab: Lab, setup: WorldSetup): Promise<World> {
  const dir = path.join(lab.dir, `world-${++worldNo}`);
  mkdirSync(dir, { recursive: true });
  const store = new FileStateStore(path.join(dir, 'state'));
  const approvalsDir = path.join(dir, 'approvals');
  const signersText = `# test approvers\n${setup.signers.join('\n')}\n`;
  const people: PersonGroup[] = (setup.people ?? []).filter((p) => p.signers.length > 0).map((p) => ({ name: p.name, signers: [...p.signers] }));
  const plan = basePlan(signersText, { quorum: setup.quorum, lifetimeHours: setup.lifetimeHours, people, stages: ['preflight', 'create-key', 'integration-checks', 'approval-gate', 'schedule-deletion'] }, setup.plan);
  const runId = `identity-center-test-${worldNo}`;
  const planDigest = digestOf(plan);
  const label = setup.label ?? 'operator@example.com';
  const initiatorKey = setup.initiatorKey === undefined ? 'operator' : setup.initiatorKey;
  const ctx = { label, env: {}, people: setup.people ?? [], keyring: keyringConfig(path.join(dir, 'allowed_signers')) };
  const signedStart = initiatorKey ? await signStart({ runId, plan, planDigest }, ctx, { signingKeyPath: setup.initiatorSignWith ?? lab.keys[initiatorKey]!.privateKey }, new Date()) : undefined;
  const initiatorIdentity = await resolveSignedInitiator({ ...ctx, allowedSignersText: signersText, ...(signedStart ? { signedStart } : {}) });
  const evidence = setup.evidence === null ? undefined : (setup.evidence ?? EVIDENCE);
  const now = new Date().toISOString();
  const run: Run = {
    id: runId,
    kind: 'rotate',
    keyring: 'identity-center',
    initiator: label,
    initiatorIdentity,
    createdAt: now,
    updatedAt: now,
    status: 'waiting',
    plan,
    planDigest,
    stages: plan.stages.map((name) => ({ name, status: name === 'approval-gate' ? 'waiting' : name === 'schedule-deletion' ? 'pending' : 'done', attempts: 1, mutations: [] })),
    ...(evidence ? { evidence, evidenceDigest: digestOf(evidence) } : {}),
    approvals: [],
    version: 0,
  };
  const saved = await store.putRun(run);
  await store.appendAudit({ actor: label, action: 'run.start', keyring: run.keyring, runId, detail: startAuditDetail(saved) });
  if (evidence) await store.appendAudit({ actor: label, action: 'run.evidence', keyring: run.keyring, runId, detail: evidenceAuditDetail(saved) });

  const world: World = {
    dir,
    store,
    approvalsDir,
    signersText,
    run: async () => (await store.getRun(runId))!,
    chain: () => readChain(store),
    evaluate: async (at = new Date()) => {
      const current = await world.run();
      return evaluateApprovals(current, { now: at, collected: await collectApprovals(current, approvalsDir), chain: await world.chain() });
    },
    approve: async (key, options = {}) =>
      approveToFile({
        store,
        runId,
        signingKeyPath: options.signWith ?? lab.keys[key]!.privateKey,
        ...(options.as ? { approver: options.as } : {}),
        approvalsDir,
        ...(options.name ? { out: path.join(approvalsDir, runId, options.name) } : {}),
        now: options.now ?? new Date(),
      }),
    craft: async (key, options = {}) => {
      const current = await world.run();
      const payload = buildPayload({
        run: current,
        approver: options.approver ?? lab.keys[key]!.principal,
        now: options.now ?? new Date(),
        lifetimeHours: 24,
        auditHead: headOf((await world.chain()).entries),
      });
      const text = canonicalJson(options.change ? options.change(payload) : payload);
      const signature = await signPayload(text, options.signWith ?? lab.keys[key]!.privateKey, { namespace: options.namespace ?? APPROVAL_NAMESPACE });
      const approval = { signer: options.signer ?? options.approver ?? lab.keys[key]!.principal, payload: text, signature, recordedAt: new Date().toISOString() };
      const file = options.name ? path.join(approvalsDir, runId, options.name) : defaultApprovalFile(approvalsDir, runId, `${lab.keys[key]!.fingerprint}-${Math.random().toString(36).slice(2, 8)}`);
      await writeApprovalFile(file, approval);
      return approval;
    },
    close: () => store.close(),
  };
  return world;
}

/** The verdict of each approval, by number: `counts` or the rejection code. */
export function verdicts(result: GateResult): string[] {
  return result.approvals.map((a) => (a.counts ? 'counts' : a.rejection!));
}

/** A run in memory (no store, no chain) with a recorded bar: for the pure payload and bar tests. */
export function makeRun(overrides: { plan?: Partial<RunPlan>; evidence?: Record<string, unknown>; status?: Run['status']; signers?: string } = {}): Run {
  const plan = basePlan(overrides.signers ?? '# none\n', {}, overrides.plan);
  const evidence = overrides.evidence ?? EVIDENCE;
  return {
    id: 'run-0001',
    kind: 'rotate',
    keyring: 'identity-center',
    initiator: 'operator@example.com',
    createdAt: '2026-11-22T10:00:00.000Z',
    updatedAt: '2026-11-22T10:00:00.000Z',
    status: overrides.status ?? 'waiting',
    plan,
    planDigest: digestOf(plan),
    stages: plan.stages.map((name) => ({ name, status: name === 'approval-gate' ? 'waiting' : name === 'schedule-deletion' ? 'pending' : 'done', attempts: name === 'schedule-deletion' ? 0 : 1, mutations: [] })),
    evidence,
    evidenceDigest: digestOf(evidence),
    approvals: [],
    version: 3,
  };
}
