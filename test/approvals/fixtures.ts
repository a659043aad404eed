/**
 * Real SSH keys and in-memory runs for the approval tests. Keys are generated once per suite with
 * ssh-keygen (ed25519 and ecdsa-p256: both fast); nothing here is mocked.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { digestOf } from '../../pipeline/canonical-json';
import type { ApprovalPolicy } from '../../pipeline/config/types';
import type { Run, RunPlan } from '../../pipeline/state/types';

/** The cast of the approval tests: two allowed approvers of different key types, the initiator, and an outsider. */
export const CAST = {
  alice: { principal: 'alice@example.com', type: 'ed25519' },
  bob: { principal: 'bob@example.com', type: 'ecdsa' },
  carol: { principal: 'carol@example.com', type: 'ed25519' },
  mallory: { principal: 'mallory@evil.example', type: 'ed25519' },
} as const;

export interface TestKey {
  readonly principal: string;
  readonly privateKey: string;
  readonly publicKeyLine: string; // "type base64"
}

export interface KeyLab {
  readonly dir: string;
  readonly keys: Record<string, TestKey>;
  /** Writes an allowed_signers file listing `principals` (each with its own key) and returns its path. */
  allowedSigners(entries: ReadonlyArray<{ principal: string; key: string; options?: string }>, name?: string): string;
  cleanup(): void;
}

export function makeKeyLab(specs: Record<string, { principal: string; type: 'ed25519' | 'ecdsa' }>): KeyLab {
  const dir = mkdtempSync(path.join(tmpdir(), 'keyrotor-approvals-test-'));
  const keys: Record<string, TestKey> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const file = path.join(dir, name);
    const typeArgs = spec.type === 'ed25519' ? ['-t', 'ed25519'] : ['-t', 'ecdsa', '-b', '256'];
    execFileSync('ssh-keygen', ['-q', ...typeArgs, '-N', '', '-C', spec.principal, '-f', file]);
    const pub = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
    keys[name] = { principal: spec.principal, privateKey: file, publicKeyLine: `${pub[0]} ${pub[1]}` };
  }
  return {
    dir,
    keys,
    allowedSigners(entries, name = 'allowed_signers') {
      const file = path.join(dir, name);
      const lines = entries.map((e) => [e.principal, e.options, keys[e.key]!.publicKeyLine].filter(Boolean).join(' '));
      writeFileSync(file, `# test allowed signers\n${lines.join('\n')}\n`);
      return file;
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

export function makeRun(overrides: { initiator?: string; plan?: Partial<RunPlan>; evidence?: Record<string, unknown>; status?: Run['status'] } = {}): Run {
  const plan: RunPlan = {
    kind: 'rotate',
    keyring: 'identity-center',
    account: '111111111111',
    region: 'us-east-1',
    alias: 'alias/identity-center',
    oldKeyArn: OLD_KEY,
    newKeyArn: NEW_KEY,
    deletionWindowDays: 30,
    minimumSoakHours: 24,
    stages: ['preflight', 'create-key', 'approval-gate', 'schedule-deletion'],
    ...overrides.plan,
  };
  const evidence = overrides.evidence ?? EVIDENCE;
  return {
    id: 'run-0001',
    kind: 'rotate',
    keyring: 'identity-center',
    initiator: overrides.initiator ?? 'arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Admin_0123/carol@example.com',
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

export function policyFor(allowedSignersFile: string, quorum = 2, lifetimeHours = 72): ApprovalPolicy {
  return { quorum, allowedSignersFile, lifetimeHours };
}
