/**
 * Different key rings never wait on each other: fifty key rings act at once in one process (as a
 * fleet command does), and every one completes — no lock given up on, no run or lease mixed up —
 * while the one audit chain they share stays a single intact line that records every mutation.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import { createHarness, type Harness } from './harness';
import { loadConfig } from '../../pipeline/config/load';
import { Engine } from '../../pipeline/engine/engine';
import { operatorSignsStarts } from '../../scripts/demo/workspace';

const KEYRINGS = 50;

describe('fifty key rings at once in one process', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ quotas: false, workspace: { checks: [] } });
  });
  afterAll(() => h.close());

  it('GIVEN fifty key rings WHEN each is adopted and then rotated at the same time THEN all complete their stages, each with its own run and lease, and the shared audit chain is intact and complete', async () => {
    // Fifty key rings like the workspace's, without Identity Center, each over its own key and alias.
    const template = JSON.parse(readFileSync(h.ws.configPath, 'utf8')) as { keyrings: Array<Record<string, unknown>> };
    const { identityCenter: _ic, ...base } = template.keyrings[0]!;
    const names = Array.from({ length: KEYRINGS }, (_, i) => `ring-${String(i).padStart(2, '0')}`);
    template.keyrings = names.map((name) => ({ ...base, name, alias: `alias/${name}`, description: `key ring ${name}` }));
    const configPath = path.join(h.ws.dir, 'fleet.json');
    writeFileSync(configPath, JSON.stringify(template, null, 2));
    const config = loadConfig(configPath);
    for (const name of names) {
      const key = (await h.clients.kms.send(new CreateKeyCommand({ Description: `key ring ${name}` }))).KeyMetadata!.Arn!;
      await h.clients.kms.send(new CreateAliasCommand({ AliasName: `alias/${name}`, TargetKeyId: key }));
    }
    const engine = () =>
      new Engine({ config, store: h.store, clientsFor: () => h.clients, actor: h.ws.operator, identifyInitiator: operatorSignsStarts(h.ws, config), options: { poll: { initialMs: 10, maxMs: 50 } } });

    const adopted = await Promise.all(names.map(async (name) => engine().advance((await engine().start(name, 'adopt')).id)));
    expect(adopted.map((r) => r.status)).toEqual(names.map(() => 'completed'));

    const rotations = await Promise.all(names.map(async (name) => engine().advance((await engine().start(name, 'rotate')).id, { stageLimit: 3 })));
    for (const [i, run] of rotations.entries()) {
      expect({ name: names[i], keyring: run.keyring, stages: run.stages.slice(0, 3).map((s) => s.status) }).toEqual({ name: names[i], keyring: names[i], stages: ['done', 'done', 'done'] });
      expect((await h.store.getLease(names[i]!))?.runId).toBe(run.id);
    }
    expect(new Set(rotations.map((r) => r.plan.newKeyArn)).size).toBe(KEYRINGS);

    const audit = await h.store.readAudit();
    expect(await h.store.verifyAudit()).toEqual({ ok: true, entries: audit.length });
    const intents = audit.filter((e) => e.action === 'aws.intent').map((e) => String(e.detail?.operation));
    expect(intents.filter((o) => o === 'kms:CreateKey')).toHaveLength(KEYRINGS);
    expect(h.emulator.callLog().filter((c) => c.mutating && c.operation === 'CreateKey')).toHaveLength(KEYRINGS * 2); // the test's own fifty, then the runs'
  }, 120_000);
});
