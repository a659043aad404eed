/**
 * Who started a run, in terms the gate can hold against signing keys.
 *
 * The design (documented in approvers/README.md): a run's initiator is tied to a person by
 * verified evidence only —
 *   1. a signed start: `rotate start --signing-key KEY` signs {run, plan digest, caller} in its own
 *      SSHSIG namespace (keyrotor-start@v1); the key must be listed in the run's allowed_signers,
 *      so the initiator is that listed person (every principal the key is listed under, every key
 *      listed under those principals, and the `people` entry grouping them);
 *   2. the AWS caller (STS GetCallerIdentity) matching a reviewed `people[].aws` identity — IAM
 *      users and Identity Center sessions only, whose last segment AWS sets;
 *   3. from CI, the GitHub login that dispatched the run, trusted only when the caller is the key
 *      ring's pipeline role and its session name is the one the rotation workflow derives from
 *      GITHUB_ACTOR (`gh-<login>-<GITHUB_RUN_ID>`; only that workflow can assume the role through
 *      GitHub OIDC), matching `people[].github`.
 * Everything else (KEYROTOR_OPERATOR, GITHUB_ACTOR in a local shell, a principal-looking label) is a
 * claim: claims only ever add exclusions, never tie. A run whose initiator is tied to no one gets no
 * approval counted at all: the gate cannot rule anyone out.
 */
import type { KeyRingConfig, PersonConfig } from '../config/types';
import { canonicalJson } from '../canonical-json';
import { ApprovalError } from '../errors';
import type { InitiatorIdentity, RunPlan } from '../state/types';
import { isPattern, parseAllowedSigners, principalAsListed, type AllowedSigner } from './allowed-signers';
import { certifiedPrincipals } from './certified-names';
import { checkSignatureIntegrity, signPayload, START_NAMESPACE, type SshKeygenOptions } from './ssh';

export type { InitiatorIdentity } from '../state/types';

export interface StartDraft {
  readonly runId: string;
  readonly plan: RunPlan;
  readonly planDigest: string;
}

/** What signs a start (`rotate start --signing-key`). */
export interface StartSigner {
  readonly signingKeyPath: string;
  /** The initiator's principal in allowed_signers (optional: the key decides who they are). */
  readonly principal?: string;
  readonly agent?: boolean;
  readonly ssh?: SshKeygenOptions;
}

/** What the caller of `rotate start` looks like, before anything is verified. */
export interface StartContext {
  /** $KEYROTOR_OPERATOR or the caller ARN: the display label. */
  readonly label: string;
  /** STS GetCallerIdentity ARN (undefined when it was not read). */
  readonly awsCaller?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly people: readonly PersonConfig[];
  readonly keyring: KeyRingConfig;
}

export function startPayload(draft: StartDraft, ctx: Pick<StartContext, 'awsCaller' | 'label'>, principal: string | undefined, at: Date): string {
  return canonicalJson({
    namespace: START_NAMESPACE,
    runId: draft.runId,
    keyring: draft.plan.keyring,
    kind: draft.plan.kind,
    planDigest: draft.planDigest,
    label: ctx.label,
    ...(ctx.awsCaller === undefined ? {} : { awsCaller: ctx.awsCaller }),
    ...(principal === undefined ? {} : { principal }),
    at: at.toISOString(),
  });
}

/** Signs the start and reads back which key signed it (check-novalidate: the signature is over exactly this payload). */
export async function signStart(draft: StartDraft, ctx: StartContext, signer: StartSigner, now: Date): Promise<NonNullable<InitiatorIdentity['signedStart']>> {
  const payload = startPayload(draft, ctx, signer.principal, now);
  const signature = await signPayload(payload, signer.signingKeyPath, { namespace: START_NAMESPACE, ...(signer.agent ? { agent: true } : {}) }, signer.ssh);
  const check = await checkSignatureIntegrity({ payload, signature, namespace: START_NAMESPACE }, signer.ssh);
  if (!check.ok) {
    throw new ApprovalError(`the start signature made with ${signer.signingKeyPath} does not check out: ${check.reason}`, {
      fault: 'internal',
      nextStep: 'report this as a keyrotor bug, with your ssh-keygen version (`ssh -V`)',
    });
  }
  return { fingerprint: check.fingerprint, ...(signer.principal === undefined ? {} : { principal: signer.principal }), payload, signature };
}

/** `*` in a `people[].aws` identity matches within the role segment only. */
function awsIdentityMatches(pattern: string, arn: string): boolean {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(`^${body}$`).test(arn);
}

/** The GitHub login the rotation workflow's role session proves (`gh-<login>-<run id>` on the key ring's pipeline role). */
export function githubLoginFromSession(awsCaller: string | undefined, keyring: KeyRingConfig, env: NodeJS.ProcessEnv): string | undefined {
  if (!awsCaller || !keyring.pipelineRole || env.GITHUB_ACTIONS !== 'true') return undefined;
  const role = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(keyring.pipelineRole);
  const session = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(awsCaller);
  if (!role || !session || role[1] !== session[1] || role[2] !== session[2]) return undefined;
  const runId = env.GITHUB_RUN_ID;
  const m = /^gh-(.+)-(\d+)$/.exec(session[3]!);
  if (!m || (runId !== undefined && m[2] !== runId)) return undefined;
  return m[1];
}

function entriesOfKey(signers: readonly AllowedSigner[], fingerprint: string): AllowedSigner[] {
  return signers.filter((s) => !s.certAuthority && s.fingerprint === fingerprint);
}

export interface ResolveInput extends StartContext {
  /** The allowed_signers text the run binds (its plan's bar); undefined for runs without a gate. */
  readonly allowedSignersText?: string;
  readonly signedStart?: InitiatorIdentity['signedStart'];
  /** The principals the certificate that signed the start names (a claim of who the initiator is: it only widens the exclusion). */
  readonly certifiedPrincipals?: readonly string[];
}

/** Decides the initiator's identity from verified evidence and claims (see the module comment). Pure. */
export function resolveInitiator(input: ResolveInput): InitiatorIdentity {
  const signers = input.allowedSignersText === undefined ? [] : parseAllowedSigners(input.allowedSignersText, 'allowed_signers');
  const basis: string[] = [];
  const principals = new Set<string>();
  const fingerprints = new Set<string>();
  const people = new Set<string>();
  let tied = false;

  const addPerson = (person: PersonConfig, why: string): void => {
    people.add(person.name);
    for (const p of person.signers) principals.add(principalAsListed(signers, p) ?? p);
    basis.push(why);
    tied = true;
  };

  const signed = input.signedStart;
  if (signed) {
    // A key listed in allowed_signers (under a name or a pattern) is a person the gate can recognise.
    const entries = entriesOfKey(signers, signed.fingerprint);
    fingerprints.add(signed.fingerprint);
    if (entries.length > 0) {
      const listedAs = entries.flatMap((s) => s.principals);
      listedAs.filter((p) => !isPattern(p)).forEach((p) => principals.add(p));
      basis.push(`signed the start with key ${signed.fingerprint}, listed in allowed_signers for ${listedAs.join(', ')}`);
      tied = true;
    } else {
      if (signed.principal) principals.add(signed.principal);
      const viaCa = signers.some((s) => s.certAuthority);
      basis.push(`signed the start with key ${signed.fingerprint}, which allowed_signers does not list${viaCa ? ' (a start signed with a certificate is tied by the certified key being listed, not by the CA)' : ''}`);
    }
  }

  const github = {
    ...(input.env.GITHUB_ACTOR ? { actor: input.env.GITHUB_ACTOR } : {}),
    ...(input.env.GITHUB_TRIGGERING_ACTOR ? { triggeringActor: input.env.GITHUB_TRIGGERING_ACTOR } : {}),
    ...(input.env.GITHUB_RUN_ID ? { runId: input.env.GITHUB_RUN_ID } : {}),
  };
  const verifiedLogin = githubLoginFromSession(input.awsCaller, input.keyring, input.env);

  for (const person of input.people) {
    const aws = input.awsCaller === undefined ? undefined : person.aws.find((pattern) => awsIdentityMatches(pattern, input.awsCaller!));
    if (aws !== undefined) addPerson(person, `AWS caller ${input.awsCaller} is people entry "${person.name}" (${aws})`);
    const login = verifiedLogin === undefined ? undefined : person.github.find((g) => g.toLowerCase() === verifiedLogin.toLowerCase());
    if (login !== undefined) addPerson(person, `dispatched from CI by GitHub user ${verifiedLogin} (proved by the pipeline role's session ${input.awsCaller}), people entry "${person.name}"`);
    // Claims: they widen the exclusion only.
    const claimedLogins = [github.actor, github.triggeringActor].filter((g): g is string => g !== undefined);
    if (claimedLogins.some((g) => person.github.some((x) => x.toLowerCase() === g.toLowerCase())) && !people.has(person.name)) {
      people.add(person.name);
      for (const p of person.signers) principals.add(principalAsListed(signers, p) ?? p);
      basis.push(`GITHUB_ACTOR / GITHUB_TRIGGERING_ACTOR name people entry "${person.name}" (a claim: excluded from approving, not proof of who started the run)`);
    }
    if (signed && person.signers.some((p) => principals.has(principalAsListed(signers, p) ?? p)) && !people.has(person.name)) {
      addPerson(person, `the start's key belongs to people entry "${person.name}"`);
    }
  }

  // The display label, when it names a listed principal, is a claim too.
  const labelAsPrincipal = principalAsListed(signers, input.label);
  if (labelAsPrincipal !== undefined) principals.add(labelAsPrincipal);
  if (signed?.principal !== undefined) principals.add(principalAsListed(signers, signed.principal) ?? signed.principal);
  for (const p of input.certifiedPrincipals ?? []) {
    principals.add(principalAsListed(signers, p) ?? p);
    basis.push(`the start was signed with a certificate naming ${p}`);
  }

  // Every key listed under one of the initiator's principals is theirs too.
  for (const entry of signers) {
    if (entry.certAuthority) continue;
    if ([...principals].some((p) => !isPattern(p) && entry.principals.some((q) => !isPattern(q) && q.toLowerCase() === p.toLowerCase()))) fingerprints.add(entry.fingerprint);
  }

  if (!tied) {
    basis.push(
      `not tied to a person: no signed start with a listed key, and no people entry matches ${input.awsCaller ? `the AWS caller ${input.awsCaller}` : 'the caller'}` +
        (verifiedLogin ? ` or GitHub user ${verifiedLogin}` : ''),
    );
  }
  return {
    label: input.label,
    ...(input.awsCaller === undefined ? {} : { awsCaller: input.awsCaller }),
    ...(Object.keys(github).length > 0 || verifiedLogin ? { github: { ...github, ...(verifiedLogin ? { verifiedActor: verifiedLogin } : {}) } } : {}),
    ...(signed ? { signedStart: signed } : {}),
    people: [...people].sort(),
    principals: [...principals].sort(),
    fingerprints: [...fingerprints].sort(),
    tied,
    basis,
  };
}

/**
 * resolveInitiator, with the names the start's certificate certifies (when a certificate signed it)
 * read from its signature: every one of them is the initiator's too. check-novalidate proved the
 * key signed the start, not that a trusted CA issued the certificate, so the names are a claim:
 * like the label, they only widen who may not approve.
 */
export async function resolveSignedInitiator(input: ResolveInput, ssh?: SshKeygenOptions): Promise<InitiatorIdentity> {
  const certified = input.signedStart ? await certifiedPrincipals(input.signedStart.signature, ssh) : [];
  return resolveInitiator({ ...input, ...(certified.length > 0 ? { certifiedPrincipals: certified } : {}) });
}

/** Refuses to open a run that deletes through the gate when its initiator is tied to no one: it could never be approved. */
export function assertInitiatorTied(identity: InitiatorIdentity, keyringName: string): void {
  if (identity.tied) return;
  throw new ApprovalError(
    `cannot tell who is starting this run in approver terms (${identity.basis.join('; ')}), so the gate could not keep you from approving it and would count no approval at all`,
    {
      fault: 'operator',
      nextStep:
        `sign the start with your key from allowed_signers: \`rotate start ${keyringName} --signing-key ~/.ssh/id_ed25519\` (or its .pub with ssh-agent, --agent); ` +
        'or add your AWS identity (an IAM user or Identity Center session ARN) or GitHub login to `people` in the config through a pull request',
    },
  );
}

export interface ResolverInput {
  readonly keyring: KeyRingConfig;
  readonly people: readonly PersonConfig[];
  /** The display label ($KEYROTOR_OPERATOR or the caller ARN). */
  readonly label: string;
  /** Reads the STS caller ARN (verified by AWS); undefined when it cannot be read. */
  readonly awsCaller: () => Promise<string | undefined>;
  readonly env: NodeJS.ProcessEnv;
  /** `rotate start --signing-key`: sign the start with this key. */
  readonly signer?: StartSigner;
  readonly now: () => Date;
}

/**
 * The engine's `identifyInitiator`: signs the start when a key is given, resolves the identity
 * against the plan's recorded allowed_signers, and refuses a run that deletes through the gate when
 * its initiator is tied to no one (nobody could ever approve it).
 */
export function initiatorResolver(input: ResolverInput): (draft: StartDraft) => Promise<InitiatorIdentity> {
  return async (draft) => {
    const awsCaller = await input.awsCaller();
    const ctx: StartContext = { label: input.label, env: input.env, people: input.people, keyring: input.keyring, ...(awsCaller === undefined ? {} : { awsCaller }) };
    const signedStart = input.signer ? await signStart(draft, ctx, input.signer, input.now()) : undefined;
    const identity = await resolveSignedInitiator(
      {
        ...ctx,
        ...(draft.plan.approvals ? { allowedSignersText: draft.plan.approvals.allowedSigners } : {}),
        ...(signedStart ? { signedStart } : {}),
      },
      input.signer?.ssh,
    );
    if (draft.plan.stages.includes('approval-gate')) assertInitiatorTied(identity, draft.plan.keyring);
    return identity;
  };
}

// ---- legacy label comparison, kept as one more exclusion ----

/** Identities a display label stands for: itself and, for an ARN, its last path segment (session or user name). */
export function initiatorIdentities(initiator: string): string[] {
  const identities = new Set([initiator.trim().toLowerCase()]);
  if (initiator.startsWith('arn:')) {
    const resource = initiator.split(':').slice(5).join(':');
    const last = resource.split('/').pop();
    if (last) identities.add(last.toLowerCase());
  }
  identities.delete('');
  return [...identities];
}

/** The approver's principal equals the label (or its session name, or the label is the approver's local part). */
export function labelNamesApprover(approver: string, label: string): boolean {
  const who = approver.trim().toLowerCase();
  const localPart = who.includes('@') ? who.slice(0, who.indexOf('@')) : undefined;
  return initiatorIdentities(label).some((id) => id === who || (!id.includes('@') && id === localPart));
}

