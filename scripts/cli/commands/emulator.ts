import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { CommandRun } from '../context';
import { ExitCode, KeyrotorError } from '../../../pipeline/errors';

interface EmulatorCommandOptions {
  readonly port?: string;
  readonly seed?: string;
}

/** Parses --port: an integer 0–65535 (0 = any free port). */
export function parsePort(raw: string | undefined): number {
  const port = raw === undefined ? 4566 : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new KeyrotorError(`--port ${raw}: must be an integer from 0 to 65535 (0 picks a free port)`, {
      fault: 'operator',
      nextStep: 'run `rotate emulator --port 4566` (or another free port)',
    });
  }
  return port;
}

/** The shell lines that point the AWS CLI, the SDKs and `rotate` at the emulator. */
export function exportLines(endpoint: string, region: string): string[] {
  return [
    `export AWS_ENDPOINT_URL=${endpoint}`,
    `export AWS_REGION=${region}`,
    'export AWS_ACCESS_KEY_ID=AKIAEMULATOROPERATOR',
    'export AWS_SECRET_ACCESS_KEY=emulator-not-secret',
  ];
}

/**
 * `rotate emulator`: serves the local AWS emulator (a TEST DOUBLE, see emulator/README.md) on
 * 127.0.0.1 until SIGINT or SIGTERM, then stops it cleanly and exits 0.
 */
export const run: CommandRun<EmulatorCommandOptions> = async (ctx, options) => {
  const port = parsePort(options.port);
  const { startEmulator, parseSeedJson, DEFAULT_SEED } = await import('../../../emulator');
  let seed = DEFAULT_SEED;
  if (options.seed) {
    const file = path.resolve(ctx.cwd, options.seed);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new KeyrotorError(`--seed ${file}: cannot read the seed file (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
        fault: 'operator',
        nextStep: 'check the path, or start without --seed for the default organization',
      });
    }
    seed = parseSeedJson(text, file);
  }

  const emulator = await startEmulator({ port, seed, log: (message) => ctx.io.err(`emulator: ${message}`) }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') {
      throw new KeyrotorError(`port ${port} on 127.0.0.1 is already in use`, {
        fault: 'operator',
        nextStep: `stop what listens on ${port}, or run \`rotate emulator --port 0\` for any free port`,
        cause: error,
      });
    }
    throw error;
  });

  const region = seed.instances[0]?.region ?? 'us-east-1';
  if (ctx.global.json) {
    const { emitJson } = await import('../json/output');
    emitJson(ctx, { endpoint: emulator.endpoint, port: emulator.port, region, exports: exportLines(emulator.endpoint, region) });
  } else {
    ctx.io.out(`emulator listening on ${emulator.endpoint}`);
    ctx.io.out('This is a TEST DOUBLE of KMS, SSO Admin, Identity Store and STS; point tools at it with:');
    for (const line of exportLines(emulator.endpoint, region)) ctx.io.out(line);
    ctx.io.out('Press Ctrl-C to stop.');
  }

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await emulator.stop();
  ctx.io.err('emulator stopped');
  return ExitCode.ok;
};
