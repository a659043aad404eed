/**
 * Making an approval, on the approver's machine. Nothing here writes the run or the audit chain:
 * the result is a StoredApproval the CLI writes to a file, which the gate later reads.
 *
 * `prepareApproval` does every check that needs no signature first — the run can be approved, its
 * initiator is tied to a person, the signing key exists and is listed for the claimed principal in
 * the run's recorded allowed_signers, and the approver is not the initiator under any name — so a
 * refusal comes before the payload is shown and before anyone types `yes`. `signApproval` then
 * signs and proves the signature verifies against that same recorded allowed_signers.
 */
import { ApprovalError } from '../errors';
import { runNotFound } from '../runs/resolve-run';
import type { ApprovalBar, Run, StateStore, StoredApproval } from '../state/types';
import { parseAllowedSigners, type AllowedSigner } from './allowed-signers';
import { linkCertifiedNames } from './certified-names';
import { chainBlockers, headOf, readChain, type ChainView } from './chain';
import { defaultApprovalFile, writeApprovalFile } from './files';
import { INITIATOR, linkInitiator, runBlockers } from './gate';
import { labelNamesApprover } from './initiator';
import { buildPayload, serializePayload, type ApprovalPayload } from './payload';
import { keyNode, nameNode, PersonGraph } from './persons';
import { checkListed, principalsFor, resolveSigningKey, type Listing, type SigningKey } from './signing-key';
import { signPayload, verifySignature, withPrivateFiles, type SshKeygenOptions } from './ssh';
import { securityKeyTouched } from './sshsig';

export interface PrepareInput {
  readonly run: Run;
  readonly chain: ChainView;
  readonly key: SigningKey;
  /** The principal to sign as; default: the one allowed_signers lists the key under (or its certificate names). */
  readonly approver?: string;
  readonly now: Date;
  /** Default: the run's recorded lifetime; never longer (the gate would reject it). */
  readonly lifetimeHours?: number;
}

export interface PreparedApproval {
  readonly payload: ApprovalPayload;
  /** The exact bytes to sign. */
  readonly text: string;
  readonly key: SigningKey;
  readonly listing: Listing;
}

function refuse(message: string, nextStep: string): never {
  throw new ApprovalError(message, { fault: 'operator', nextStep });
}

/** The bar the run recorded at start; a run without one (started before runs recorded it) cannot be approved. */
function barOf(run: Run): ApprovalBar {
  const bar = run.plan.approvals;
  if (!bar) refuse(`run ${run.id} records no approval bar (it was started before runs recorded one)`, `adopt the current config with \`rotate replan ${run.id}\`, or start a new run`);
  return bar;
}

function recordedSigners(run: Run): AllowedSigner[] {
  const bar = barOf(run);
  return parseAllowedSigners(bar.allowedSigners, `${bar.allowedSignersFile} (recorded at start)`);
}

/** The principal to sign as when --as is not given: the key decides (its listing, else its certificate, else its comment). */
function defaultPrincipal(key: SigningKey, signers: readonly AllowedSigner[]): string {
  const listed = principalsFor(key, signers);
  if (listed.length === 1) return listed[0]!;
  if (listed.length > 1) refuse(`your key ${key.fingerprint} is listed for ${listed.join(', ')}; say which you sign as`, `pass --as ${listed[0]}`);
  if (key.comment && /\S+@\S+/.test(key.comment)) return key.comment.split(/\s+/)[0]!;
  refuse(
    `cannot tell which principal you sign as: your key ${key.fingerprint} (${key.path}) is not listed under any principal in the run's allowed_signers, and its comment names none`,
    'pass --as <your principal in allowed_signers>, e.g. --as you@example.com',
  );
}

/** Every refusal that does not need a signature; returns the payload to show and sign. */
export function prepareApproval(input: PrepareInput): PreparedApproval {
  const { run, key } = input;
  const blockers = [...runBlockers(run), ...chainBlockers(run, input.chain)];
  if (blockers.length > 0) {
    refuse(`run ${run.id} cannot be approved: ${blockers.join('; ')}`, `run \`rotate status ${run.id}\`; an approval would not count until this is resolved`);
  }
  const bar = barOf(run);
  const lifetimeHours = input.lifetimeHours ?? bar.lifetimeHours;
  if (lifetimeHours <= 0 || lifetimeHours > bar.lifetimeHours) {
    refuse(`approval lifetime ${lifetimeHours} h is outside 0–${bar.lifetimeHours} h (the run's recorded approvals.lifetimeHours)`, `use a lifetime of at most ${bar.lifetimeHours} hours`);
  }
  const identity = run.initiatorIdentity;
  if (!identity?.tied) {
    refuse(
      `run ${run.id}'s initiator (${run.initiator}) is not tied to a person (${identity?.basis.join('; ') ?? 'only a label was recorded'}), so no approval of it can count`,
      `ask the operator to roll it back and start a new run with \`rotate start ${run.keyring} --signing-key <their key>\` (or map them in \`people\`)`,
    );
  }
  const signers = recordedSigners(run);
  const source = `${bar.allowedSignersFile} (as run ${run.id} recorded it at start)`;
  const claimed = input.approver ?? defaultPrincipal(key, signers);
  const listing = checkListed(key, claimed, signers, input.now, source);

  const graph = PersonGraph.fromBar(signers, bar.people);
  linkInitiator(graph, identity);
  graph.link(keyNode(key.fingerprint), nameNode(listing.principal), `you sign as ${listing.principal} with key ${key.fingerprint}`);
  if (listing.useCertificate && key.certificate) linkCertifiedNames(graph, key.fingerprint, key.certificate.info.principals, 'you sign with a certificate');
  if (graph.same(keyNode(key.fingerprint), INITIATOR) || labelNamesApprover(listing.principal, run.initiator)) {
    const why = graph.same(keyNode(key.fingerprint), INITIATOR) ? graph.explain(keyNode(key.fingerprint), INITIATOR) : `the run's initiator label ${run.initiator} names ${listing.principal}`;
    refuse(
      `run ${run.id}'s initiator is recorded as you, so you cannot approve it, under any name (${why}; initiator label ${run.initiator})`,
      'ask another allowed signer to approve; an initiator never counts toward the quorum. If you did not start this run, its record names you through a claim ' +
        `(the label from $KEYROTOR_OPERATOR, or GITHUB_ACTOR): tell the operator, who should roll it back (\`rotate rollback ${run.id}\`) and start again as themselves`,
    );
  }
  const payload = buildPayload({ run, approver: listing.principal, now: input.now, lifetimeHours, auditHead: headOf(input.chain.entries) });
  return { payload, text: serializePayload(payload), key, listing };
}

/** Signs a prepared payload and proves it verifies against the run's recorded allowed_signers with the expected key. */
export async function signApproval(prepared: PreparedApproval, run: Run, now: Date, ssh?: SshKeygenOptions): Promise<StoredApproval> {
  const { key, listing } = prepared;
  const signWith = listing.useCertificate && key.certificate ? key.certificate.path : key.signWith;
  const signature = await signPayload(prepared.text, signWith, { ...(key.agent ? { agent: true } : {}) }, ssh);
  const check = await withPrivateFiles({ allowed_signers: barOf(run).allowedSigners }, ({ allowed_signers: file }) =>
    verifySignature({ allowedSignersFile: file!, principal: listing.principal, payload: prepared.text, signature }, ssh),
  );
  if (!check.ok) {
    refuse(`your signature as ${listing.principal} does not verify against the run's allowed_signers: ${check.reason}`, `sign with the key listed for ${listing.principal} (checked: ${listing.how})`);
  }
  if (securityKeyTouched(signature) === false) {
    refuse(`your security key signed without a touch (its user-presence flag is off), so the gate would not count it`, 'sign again and touch the key when it blinks (a credential made with no-touch-required cannot approve)');
  }
  if (check.fingerprint !== key.fingerprint) {
    refuse(`ssh-keygen signed with key ${check.fingerprint}, not ${key.fingerprint} from ${key.path} (another key in ssh-agent?)`, 'pass the exact key, or use --agent with its .pub');
  }
  return { signer: listing.principal, payload: prepared.text, signature, recordedAt: now.toISOString() };
}

export interface ApproveToFileInput {
  /** Read only: the run and the audit chain. */
  readonly store: Pick<StateStore, 'getRun' | 'readAudit' | 'auditHead'> & Partial<Pick<StateStore, 'listRuns' | 'description'>>;
  readonly runId: string;
  readonly signingKeyPath: string;
  readonly agent?: boolean;
  readonly approver?: string;
  /** The approvals directory; the file goes to `<dir>/<run id>/<key fingerprint>.json` unless `out` is given. */
  readonly approvalsDir: string;
  readonly out?: string;
  readonly now: Date;
  readonly ssh?: SshKeygenOptions;
}

/** What `rotate approve --yes` does, for the demo and tests: check, sign, write the file. Writes nothing else. */
export async function approveToFile(input: ApproveToFileInput): Promise<{ file: string; approval: StoredApproval; payload: ApprovalPayload }> {
  const run = await input.store.getRun(input.runId);
  if (!run) throw await runNotFound(input.store, input.runId);
  const key = await resolveSigningKey(input.signingKeyPath, { agent: Boolean(input.agent), ...(input.ssh ? { ssh: input.ssh } : {}) });
  const prepared = prepareApproval({ run, chain: await readChain(input.store), key, ...(input.approver ? { approver: input.approver } : {}), now: input.now });
  const approval = await signApproval(prepared, run, input.now, input.ssh);
  const file = input.out ?? defaultApprovalFile(input.approvalsDir, run.id, key.fingerprint);
  await writeApprovalFile(file, approval);
  return { file, approval, payload: prepared.payload };
}
