/** Runs the real `rotate` CLI in-process against an emulator and a demo workspace, capturing what an operator would see. */
import { main } from '../../scripts/cli/main';
import type { CliIo } from '../../scripts/cli/context';
import type { Emulator } from '../../emulator';
import type { DemoWorkspace } from '../../scripts/demo/workspace';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function invokeRotate(ws: DemoWorkspace, emulator: Emulator, cwd: string, args: readonly string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), interactive: false, readLine: async () => undefined };
  const env = { KEYROTOR_OPERATOR: ws.operator, AWS_ACCESS_KEY_ID: 'AKIATESTOPERATOR', AWS_SECRET_ACCESS_KEY: 'test' };
  const code = await main(['node', 'rotate', '--config', ws.configPath, '--endpoint', emulator.endpoint, ...args], { io, env, cwd });
  return { code, out, err };
}
