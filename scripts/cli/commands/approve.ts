/**
 * `rotate approve RUN --signing-key PATH [--agent] [--as ID] [--out FILE] [--approvals-dir DIR] [--yes]`
 *
 * On the approver's machine: checks everything that can fail before showing anything (the run can
 * be approved, the config still matches the run's bar, the key exists and is listed for the
 * claimed principal in the run's recorded allowed_signers, the approver is not the initiator),
 * then shows exactly what is signed, in words and as the canonical payload, asks, signs, verifies,
 * and writes an approval FILE (default `<approvals dir>/<run id>/<key fingerprint>.json`). It
 * never writes the run or the audit chain: the file reaches the gate through a pull request or
 * an artifact, and the engine's gate records the approvals that carried it.
 */
import * as path from 'node:path';
import type { CommandRun } from '../context';
import { ApprovalError, ExitCode } from '../../../pipeline/errors';
import { prepareApproval, signApproval } from '../../../pipeline/approvals/approve';
import { defaultApprovalFile, writeApprovalFile } from '../../../pipeline/approvals/files';
import { describeGateResult } from '../../../pipeline/approvals/gate';
import { describePayload } from '../../../pipeline/approvals/payload';
import { approvalSessionFor } from './approval-support';
import { emitJson } from '../json/output';
import { formatTime, normalizeTimes } from '../view/text';
import { resolveSigningKey } from '../../../pipeline/approvals/signing-key';

interface ApproveOptions {
  readonly signingKey: string;
  readonly agent?: boolean;
  readonly as?: string;
  readonly out?: string;
  readonly approvalsDir?: string;
  readonly yes?: boolean;
}

export const run: CommandRun = async (ctx, rawOptions, args) => {
  const options = rawOptions as unknown as ApproveOptions; // shape fixed by the option definitions in main.ts
  const { io, global } = ctx;
  // With --json, stdout carries only the result; what a person reads goes to stderr.
  const say = global.json ? io.err : io.out;
  const session = await approvalSessionFor(ctx, args[0] ?? '', { writesApprovals: true, ...(options.approvalsDir ? { approvalsDir: options.approvalsDir } : {}) });
  try {
    // RUN may have been a prefix or `latest`: from here on, the full id.
    const runId = session.run.id;
    const now = ctx.clock.now();
    const ssh = { env: ctx.env };
    const key = await resolveSigningKey(path.resolve(ctx.cwd, options.signingKey), { agent: Boolean(options.agent), ssh });
    const prepared = prepareApproval({ run: session.run, chain: session.chain, key, ...(options.as ? { approver: options.as } : {}), now });
    // The words in the one time format; the canonical payload below stays byte for byte what is signed.
    say(normalizeTimes(describePayload(prepared.payload, session.run)));
    say(`Signing key: ${key.fingerprint} (${prepared.listing.how}; private key ${key.privateHalf}${key.hardware ? '; a security key: touch it when it blinks' : ''}).`);
    say(`\nPayload to be signed (canonical JSON, namespace ${prepared.payload.namespace}):\n${prepared.text}\n`);
    if (!options.yes) {
      if (!io.interactive) {
        throw new ApprovalError('not signing: no terminal to confirm on, and --yes was not given', {
          fault: 'operator',
          nextStep: `read the payload printed above, then run \`rotate approve ${runId} --signing-key ${options.signingKey} --yes\``,
        });
      }
      const answer = await io.readLine('Sign this approval? Type "yes" to sign: ');
      if (answer?.trim().toLowerCase() !== 'yes') {
        io.err('not signed; nothing was written');
        return ExitCode.notSatisfied;
      }
    }
    const approval = await signApproval(prepared, session.run, now, ssh);
    const file = options.out ? path.resolve(ctx.cwd, options.out) : defaultApprovalFile(session.approvalsDir, runId, key.fingerprint);
    await writeApprovalFile(file, approval);
    const { result } = await session.evaluate(now, ssh);
    const next = result.satisfied
      ? `the quorum holds: \`rotate advance ${runId}\` runs the gate stage (in CI: merge the file, then the deletion job)`
      : `hand in ${file} (a pull request, or the gate's approvals directory); ${result.missing} more approver(s) needed; \`rotate gate ${runId}\` shows the count`;
    if (global.json) {
      emitJson(ctx, { file, approval: { signer: approval.signer, recordedAt: approval.recordedAt, payload: prepared.payload }, gate: result, next });
    } else {
      io.out(`signed: approval by ${approval.signer} (key ${key.fingerprint}) for run ${runId}, valid until ${formatTime(prepared.payload.expiresAt)}`);
      io.out(`written to ${file}: hand it in (commit it through a pull request, or pass it to the gate's approvals directory)`);
      io.out(normalizeTimes(describeGateResult(result)));
      io.out(`next: ${next}`);
    }
    return ExitCode.ok;
  } finally {
    await session.close();
  }
};
