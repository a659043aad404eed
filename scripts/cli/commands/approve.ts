/**
 * `rotate approve RUN --signing-key PATH [--as IDENTITY] [--out FILE] [--yes]` — show the approver
 * exactly what they sign, in words and as the canonical payload, ask, sign, verify against
 * allowed_signers, store with the run (and optionally as a file).
 */
import * as path from 'node:path';
import type { CommandRun } from '../context';
import { ApprovalError, ExitCode } from '../../../pipeline/errors';
import { prepareApproval, recordApproval, signApproval } from '../../../pipeline/approvals/approve';
import { writeApprovalFile } from '../../../pipeline/approvals/files';
import { describeGateResult, evaluateApprovals } from '../../../pipeline/approvals/gate';
import { describePayload } from '../../../pipeline/approvals/payload';
import { openApprovalSession } from '../../../pipeline/approvals/session';
import { publicKeyComment } from '../../../pipeline/approvals/ssh';

interface ApproveOptions {
  readonly signingKey: string;
  readonly as?: string;
  readonly out?: string;
  readonly yes?: boolean;
}

export const run: CommandRun = async (ctx, rawOptions, args) => {
  const options = rawOptions as unknown as ApproveOptions; // shape fixed by the option definitions in main.ts
  const { io, global } = ctx;
  const runId = args[0]!;
  const signingKeyPath = path.resolve(ctx.cwd, options.signingKey);
  // With --json, stdout carries only the result; what a person reads goes to stderr.
  const say = global.json ? io.err : io.out;
  const approver = options.as ?? (await publicKeyComment(signingKeyPath));
  if (!approver) {
    throw new ApprovalError(`cannot tell who you are: --as was not given and ${signingKeyPath}.pub has no comment`, {
      fault: 'operator',
      nextStep: 'pass --as <your principal in allowed_signers>, e.g. --as you@example.com',
    });
  }

  const session = await openApprovalSession({ configFile: global.config, runId, stateDir: global.stateDir, env: ctx.env });
  try {
    const now = new Date();
    const prepared = await prepareApproval({ run: session.run, policy: session.policy, approver, now });
    say(describePayload(prepared.payload, session.run.evidence));
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
        io.err('not signed; nothing was stored');
        return ExitCode.notSatisfied;
      }
    }
    const approval = await signApproval(prepared, { policy: session.policy, signingKeyPath, now });
    const stored = await recordApproval(session.store, runId, approval);
    if (options.out) await writeApprovalFile(path.resolve(ctx.cwd, options.out), approval);
    const gate = await evaluateApprovals(stored, session.policy, { now });
    if (global.json) {
      io.out(JSON.stringify({ approval, gate }, null, 2));
    } else {
      io.out(`signed and stored: approval by ${approval.signer} for run ${runId}, valid until ${prepared.payload.expiresAt}`);
      if (options.out) io.out(`also written to ${path.resolve(ctx.cwd, options.out)}`);
      io.out(describeGateResult(gate));
    }
    return ExitCode.ok;
  } finally {
    await session.close();
  }
};
