/**
 * `rotate lint`'s check of the approver set, per allowed_signers file the config names: it exists
 * and parses; every key in it is one ssh-keygen can use (`ssh-keygen -l`) and strong enough; none is
 * an example key; and each key ring's quorum is reachable by distinct people (counted by key, as the
 * gate counts) once the run's initiator is left out — any listed person when runs are started with
 * a signed start, or each operator the `people` section names.
 */
import type { Config, KeyRingConfig } from '../config/types';
import { EXAMPLE_KEY_MARKER, parseAllowedSigners, readAllowedSignersText, unquotedOptionsProblem, type AllowedSigner } from './allowed-signers';
import { personGroups } from './bar';
import { keyNode, nameNode, PersonGraph } from './persons';
import { keygenReason, listKeys, sshKeygen, withPrivateFiles, type SshKeygenOptions } from './ssh';

export type ApproverRule =
  | 'signers-missing'
  | 'signers-unparseable'
  | 'no-approvers'
  | 'example-key'
  | 'key-unusable'
  | 'key-weak'
  | 'unknown-option'
  | 'option-unquoted'
  | 'quorum-unreachable';

export interface ApproverFinding {
  /** The allowed_signers file. */
  readonly file: string;
  /** Key rings that use it (for quorum findings, the one concerned). */
  readonly keyrings: readonly string[];
  readonly rule: ApproverRule;
  readonly line?: number;
  readonly message: string;
}

export function describeApproverFinding(f: ApproverFinding): string {
  return `approvers ${f.file}${f.line === undefined ? '' : `:${f.line}`} (key ring${f.keyrings.length === 1 ? '' : 's'} ${f.keyrings.join(', ')}) breaks ${f.rule}: ${f.message}`;
}

const MIN_RSA_BITS = 2048;

/** Entries ssh-keygen cannot use, or that are too weak, keyed by line. One `ssh-keygen -l` for the file, one more per bad key for its reason. */
async function unusableKeys(signers: readonly AllowedSigner[], ssh: SshKeygenOptions | undefined): Promise<Map<number, { rule: ApproverRule; message: string }>> {
  const problems = new Map<number, { rule: ApproverRule; message: string }>();
  const candidates = signers.filter((s) => {
    if (s.keyType.includes('-cert-v01@openssh.com')) {
      problems.set(s.line, { rule: 'key-unusable', message: `lists a certificate (${s.keyType}); allowed_signers takes the plain key, or the CA's key with cert-authority` });
      return false;
    }
    if (s.keyType === 'ssh-dss') {
      problems.set(s.line, { rule: 'key-unusable', message: 'lists a DSA key, which current OpenSSH no longer signs with; use ed25519' });
      return false;
    }
    return true;
  });
  if (candidates.length === 0) return problems;
  const text = candidates.map((s) => `${s.keyType} ${s.publicKey} line-${s.line}`).join('\n');
  await withPrivateFiles({ 'keys.pub': `${text}\n` }, async ({ 'keys.pub': file }) => {
    const listed = await listKeys(file!, ssh);
    const byLine = new Map(listed.keys.map((k) => [Number(/^line-(\d+)$/.exec(k.comment)?.[1]), k]));
    for (const s of candidates) {
      const key = byLine.get(s.line);
      if (!key) {
        // Ask again for this key alone, for ssh-keygen's own reason.
        const one = await withPrivateFiles({ 'key.pub': `${s.keyType} ${s.publicKey}\n` }, ({ 'key.pub': f }) => sshKeygen(['-l', '-f', f!], undefined, ssh));
        problems.set(s.line, { rule: 'key-unusable', message: `ssh-keygen cannot use the ${s.keyType} key of ${s.principals.join(',')} (${keygenReason(one)})` });
      } else if (key.type === 'RSA' && key.bits < MIN_RSA_BITS) {
        problems.set(s.line, { rule: 'key-weak', message: `the RSA key of ${s.principals.join(',')} has ${key.bits} bits; use at least ${MIN_RSA_BITS} (or ed25519)` });
      } else if (key.fingerprint !== s.fingerprint) {
        problems.set(s.line, { rule: 'key-unusable', message: `ssh-keygen reads fingerprint ${key.fingerprint}, not ${s.fingerprint}: the line is damaged` });
      }
    }
  });
  return problems;
}

interface PeopleCount {
  readonly people: number;
  readonly unbounded: boolean;
  /** Each person as `principal(s)`, for messages. */
  readonly names: readonly string[];
  readonly graph: PersonGraph;
  readonly roots: ReadonlySet<string>;
}

function countPeople(usable: readonly AllowedSigner[], config: Config): PeopleCount {
  const graph = PersonGraph.fromBar(usable, personGroups(config.people));
  const roots = new Map<string, Set<string>>();
  for (const s of usable.filter((e) => !e.certAuthority)) {
    const root = graph.find(keyNode(s.fingerprint));
    const names = roots.get(root) ?? new Set<string>();
    s.principals.forEach((p) => names.add(p));
    roots.set(root, names);
  }
  return {
    people: roots.size,
    unbounded: usable.some((s) => s.certAuthority),
    names: [...roots.values()].map((n) => [...n].join('/')),
    graph,
    roots: new Set(roots.keys()),
  };
}

function quorumFindings(file: string, keyring: KeyRingConfig, count: PeopleCount, config: Config): ApproverFinding[] {
  if (count.unbounded) return []; // a trusted CA can certify any number of people
  const quorum = keyring.approvals.quorum;
  const finding = (message: string): ApproverFinding => ({ file, keyrings: [keyring.name], rule: 'quorum-unreachable', message });
  const listed = `${count.people} distinct ${count.people === 1 ? 'person' : 'people'} by key (${count.names.join(', ') || 'none'})`;
  if (count.people < quorum) return [finding(`quorum ${quorum} needs ${quorum} distinct approvers; the file lists ${listed}`)];
  const operators = (config.people ?? []).filter((p) => p.aws.length > 0 || p.github.length > 0);
  if (operators.length === 0) {
    // Without `people`, a run is tied to its initiator only by a start signed with a listed key: the initiator is one of them.
    if (count.people - 1 < quorum) {
      return [finding(`quorum ${quorum} is unreachable once the initiator (who signs the start with a listed key) is left out: the file lists ${listed}; add approvers, or name operators who are not approvers in \`people\``)];
    }
    return [];
  }
  const out: ApproverFinding[] = [];
  for (const op of operators) {
    const theirs = new Set(op.signers.map((p) => count.graph.find(nameNode(p))).filter((r) => count.roots.has(r)));
    const others = count.people - theirs.size;
    if (others < quorum) out.push(finding(`quorum ${quorum} is unreachable when ${op.name} starts the run: ${others} other distinct approver${others === 1 ? '' : 's'} (the file lists ${listed})`));
  }
  return out;
}

/** Every approver-set finding of `config` (empty when each file is usable and every quorum reachable). */
export async function lintApprovers(config: Config, ssh?: SshKeygenOptions): Promise<ApproverFinding[]> {
  const byFile = new Map<string, KeyRingConfig[]>();
  for (const k of config.keyrings) byFile.set(k.approvals.allowedSignersFile, [...(byFile.get(k.approvals.allowedSignersFile) ?? []), k]);
  const findings: ApproverFinding[] = [];
  for (const [file, keyrings] of byFile) {
    const names = keyrings.map((k) => k.name);
    let text: string;
    try {
      text = await readAllowedSignersText(file);
    } catch (error) {
      findings.push({ file, keyrings: names, rule: 'signers-missing', message: `${(error as Error).message}; nobody could approve a deletion` });
      continue;
    }
    let signers: AllowedSigner[];
    try {
      signers = parseAllowedSigners(text, file);
    } catch (error) {
      findings.push({ file, keyrings: names, rule: 'signers-unparseable', line: Number(/:(\d+):/.exec((error as Error).message)?.[1]) || undefined, message: (error as Error).message });
      continue;
    }
    if (signers.length === 0) {
      findings.push({ file, keyrings: names, rule: 'no-approvers', message: 'lists no approver keys (the committed file is a placeholder): no deletion could ever be approved; add one line per approver (approvers/README.md)' });
      continue;
    }
    const unusable = await unusableKeys(signers, ssh);
    for (const s of signers) {
      if (s.example) findings.push({ file, keyrings: names, rule: 'example-key', line: s.line, message: `the key of ${s.principals.join(',')} (${s.fingerprint}) is an example key (marked ${EXAMPLE_KEY_MARKER}, or one keyrotor shipped); nobody holds its private half — replace it with a real approver's key` });
      if (s.unknownOptions.length > 0) findings.push({ file, keyrings: names, rule: 'unknown-option', line: s.line, message: `option ${s.unknownOptions.join(', ')} is not one ssh-keygen accepts in allowed_signers (cert-authority, namespaces=, valid-after=, valid-before=)` });
      const unquoted = unquotedOptionsProblem(s);
      if (unquoted !== undefined) findings.push({ file, keyrings: names, rule: 'option-unquoted', line: s.line, message: unquoted });
      if (s.principals.every((p) => p.startsWith('!'))) {
        findings.push({ file, keyrings: names, rule: 'unknown-option', line: s.line, message: 'lists only negated principals, which match nobody' });
      }
      const problem = unusable.get(s.line);
      if (problem) findings.push({ file, keyrings: names, rule: problem.rule, line: s.line, message: problem.message });
    }
    // A line ssh-keygen rejects (an unknown or unquoted option) gives its principals no key: they count for nobody.
    const usable = signers.filter((s) => !s.example && !unusable.has(s.line) && s.unknownOptions.length === 0 && s.unquotedOptions.length === 0 && s.principals.some((p) => !p.startsWith('!')));
    if (usable.length === 0) {
      findings.push({ file, keyrings: names, rule: 'no-approvers', message: `holds no usable approver key (${signers.length} entr${signers.length === 1 ? 'y' : 'ies'}, all example or unusable): no deletion could ever be approved` });
      continue;
    }
    const count = countPeople(usable, config);
    for (const k of keyrings) findings.push(...quorumFindings(file, k, count, config));
  }
  return findings;
}

