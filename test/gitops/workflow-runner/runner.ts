/**
 * Runs a GitHub Actions workflow's jobs the way the runner would, as far as a test can: every
 * `run:` block through `bash --noprofile --norc -eo pipefail` in a fresh workspace, with a clean
 * PATH (system directories, plus what setup steps and $GITHUB_PATH add), $GITHUB_ENV /
 * $GITHUB_OUTPUT / $GITHUB_PATH / $GITHUB_STEP_SUMMARY files, `if:` conditions, job outputs,
 * `needs`, matrices and concurrency groups evaluated as GitHub does. The actions the workflows use
 * are simulated by what they leave behind (a checkout copies the repository snapshot, setup-
 * terraform puts the stub `terraform` on PATH, configure-aws-credentials exports credentials for
 * the emulator, artifacts are copied, create-pull-request records a PR when the state changed);
 * any other action fails the test. Stubs for terraform, npm and gh record their arguments.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { condition, interpolate, type ExpressionContext, type Value } from './expressions';

const STUBS = path.join(__dirname, 'stubs');
/** What an ubuntu runner has on PATH before any setup step, minus everything this machine adds. */
const SYSTEM_PATH = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export interface StubCall {
  readonly tool: string;
  readonly args: readonly string[];
  readonly cwd: string;
}

export interface PullRequestRecord {
  readonly job: string;
  readonly title: string;
  readonly branch: string;
  readonly paths: string;
}

export interface StepResult {
  readonly name: string;
  readonly outcome: 'success' | 'failure' | 'skipped';
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode?: number;
  /** What the step wrote to $GITHUB_OUTPUT. */
  readonly outputs?: Readonly<Record<string, string>>;
}

export interface JobResult {
  readonly id: string;
  readonly matrix?: Readonly<Record<string, Value>>;
  readonly result: 'success' | 'failure' | 'skipped';
  readonly steps: readonly StepResult[];
  readonly outputs: Readonly<Record<string, string>>;
  readonly concurrency?: string;
  readonly environment?: string;
  readonly workspace?: string;
  readonly summary: string;
}

export interface WorkflowRun {
  readonly concurrency?: string;
  readonly jobs: readonly JobResult[];
  readonly calls: readonly StubCall[];
  readonly pullRequests: readonly PullRequestRecord[];
  job(id: string, matrix?: string): JobResult;
  step(job: string, name: string, matrix?: string): StepResult;
}

export interface RunWorkflowOptions {
  readonly workflow: string;
  readonly event: 'push' | 'pull_request' | 'workflow_dispatch' | 'schedule';
  readonly ref?: string;
  readonly inputs?: Readonly<Record<string, Value>>;
  readonly vars?: Readonly<Record<string, string>>;
  readonly secrets?: Readonly<Record<string, string>>;
  /** The repository at the commit being built: copied into each job's workspace by its checkout. */
  readonly repo: string;
  /** The repository at the tip of main (a checkout with `ref: main`); default `repo`. */
  readonly latestMain?: string;
  /** What configure-aws-credentials exports (credentials and the emulator's endpoint). */
  readonly aws: Readonly<Record<string, string>>;
  /** Extra environment for the stubs (STUB_*). */
  readonly stubEnv?: Readonly<Record<string, string>>;
  readonly pullRequest?: Readonly<Record<string, Value>>;
  /** GITHUB_RUN_ID (default random): the rotation workflow names its AWS role session after it. */
  readonly runId?: string;
}

interface Job {
  readonly 'runs-on'?: string;
  readonly needs?: string | string[];
  readonly if?: unknown;
  readonly permissions?: unknown;
  readonly environment?: unknown;
  readonly concurrency?: unknown;
  readonly strategy?: { matrix?: Record<string, unknown> };
  readonly env?: Record<string, unknown>;
  readonly outputs?: Record<string, string>;
  readonly steps: Step[];
}

interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly if?: unknown;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, unknown>;
  readonly shell?: string;
  readonly 'working-directory'?: string;
}

export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowRun> {
  const file = path.join(options.repo, '.github', 'workflows', options.workflow);
  const doc = parse(fs.readFileSync(file, 'utf8')) as { env?: Record<string, unknown>; concurrency?: unknown; jobs: Record<string, Job>; on?: any; defaults?: any };
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-wf-'));
  const artifacts = path.join(root, 'artifacts');
  const stubLog = path.join(root, 'stub-calls.jsonl');
  fs.writeFileSync(stubLog, '');
  const runId = options.runId ?? String(1000 + Math.floor(Math.random() * 9000));
  const ref = options.ref ?? 'refs/heads/main';

  // workflow_dispatch defaults, as GitHub fills them in.
  const inputDefs = (doc.on?.workflow_dispatch?.inputs ?? {}) as Record<string, { default?: Value; type?: string }>;
  const inputs: Record<string, Value> = {};
  for (const [name, def] of Object.entries(inputDefs)) inputs[name] = def.default ?? (def.type === 'boolean' ? false : '');
  Object.assign(inputs, options.inputs ?? {});

  const github: Record<string, Value> = {
    event_name: options.event,
    ref,
    repository: 'example/keys',
    run_id: runId,
    actor: 'octo-operator',
    server_url: 'https://github.com',
    token: 'ghs_stubtoken',
    workspace: '',
    sha: '0123456789abcdef0123456789abcdef01234567',
    event: options.event === 'pull_request' ? { pull_request: { number: 42, head: { repo: { full_name: 'example/keys' } }, ...(options.pullRequest ?? {}) } } : {},
  };
  const baseContexts = { github, inputs, vars: { ...(options.vars ?? {}) }, secrets: { ...(options.secrets ?? {}) } };
  const workflowConcurrency = doc.concurrency === undefined ? undefined : groupOf(doc.concurrency, { contexts: { ...baseContexts, env: {} }, jobStatus: 'success' });

  const results: JobResult[] = [];
  const needsContext: Record<string, { result: string; outputs: Record<string, string> }> = {};
  const pullRequests: PullRequestRecord[] = [];
  for (const id of orderJobs(doc.jobs)) {
    const job = doc.jobs[id]!;
    const needs = typeof job.needs === 'string' ? [job.needs] : (job.needs ?? []);
    const contextsForJob = { ...baseContexts, needs: Object.fromEntries(needs.map((n) => [n, needsContext[n] ?? { result: 'skipped', outputs: {} }])), env: {} } as Record<string, Value>;
    const needsOk = needs.every((n) => needsContext[n]?.result === 'success');
    const run = condition(job.if, { contexts: contextsForJob, jobStatus: needsOk ? 'success' : 'failure' });
    if (!run) {
      results.push({ id, result: 'skipped', steps: [], outputs: {}, summary: '' });
      needsContext[id] = { result: 'skipped', outputs: {} };
      continue;
    }
    const matrices = expandMatrix(job.strategy?.matrix, { contexts: contextsForJob, jobStatus: 'success' });
    let jobResult: 'success' | 'failure' = 'success';
    let outputs: Record<string, string> = {};
    for (const matrix of matrices) {
      const result = await runJob({ id, job, matrix, contexts: { ...contextsForJob, matrix: matrix ?? {} }, doc, options, root, artifacts, stubLog, pullRequests });
      results.push(result);
      if (result.result === 'failure') jobResult = 'failure';
      outputs = { ...outputs, ...result.outputs };
    }
    needsContext[id] = { result: jobResult, outputs };
  }

  const calls = fs.readFileSync(stubLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as StubCall);
  const find = (id: string, matrix?: string) => {
    const found = results.find((j) => j.id === id && (matrix === undefined || Object.values(j.matrix ?? {}).includes(matrix)));
    if (!found) throw new Error(`no job ${id}${matrix ? ` (${matrix})` : ''} in this run: ${results.map((j) => j.id).join(', ')}`);
    return found;
  };
  return {
    ...(workflowConcurrency ? { concurrency: workflowConcurrency } : {}),
    jobs: results,
    calls,
    pullRequests,
    job: find,
    step: (jobId, name, matrix) => {
      const step = find(jobId, matrix).steps.find((s) => s.name === name);
      if (!step) throw new Error(`no step "${name}" in job ${jobId}: ${find(jobId, matrix).steps.map((s) => s.name).join(' | ')}`);
      return step;
    },
  };
}

function groupOf(concurrency: unknown, ctx: ExpressionContext): string {
  const group = typeof concurrency === 'object' && concurrency !== null ? (concurrency as { group: unknown }).group : concurrency;
  return String(interpolate(group, ctx));
}

function orderJobs(jobs: Record<string, Job>): string[] {
  const order: string[] = [];
  const visit = (id: string) => {
    if (order.includes(id)) return;
    const needs = jobs[id]!.needs;
    for (const n of typeof needs === 'string' ? [needs] : (needs ?? [])) visit(n);
    order.push(id);
  };
  for (const id of Object.keys(jobs)) visit(id);
  return order;
}

function expandMatrix(matrix: Record<string, unknown> | undefined, ctx: ExpressionContext): Array<Record<string, Value> | undefined> {
  if (!matrix) return [undefined];
  let combos: Array<Record<string, Value>> = [{}];
  for (const [key, raw] of Object.entries(matrix)) {
    const values = interpolate(raw, ctx);
    if (!Array.isArray(values)) throw new Error(`matrix.${key} is not a list: ${JSON.stringify(values)}`);
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  return combos;
}

interface JobRun {
  readonly id: string;
  readonly job: Job;
  readonly matrix: Record<string, Value> | undefined;
  readonly contexts: Record<string, Value>;
  readonly doc: { env?: Record<string, unknown>; defaults?: any };
  readonly options: RunWorkflowOptions;
  readonly root: string;
  readonly artifacts: string;
  readonly stubLog: string;
  readonly pullRequests: PullRequestRecord[];
}

async function runJob(r: JobRun): Promise<JobResult> {
  const jobDir = fs.mkdtempSync(path.join(r.root, `${r.id}-`));
  const workspace = path.join(jobDir, 'workspace');
  const home = path.join(jobDir, 'home');
  const runnerTemp = path.join(jobDir, 'tmp');
  for (const d of [workspace, home, runnerTemp]) fs.mkdirSync(d, { recursive: true });
  const files = { env: path.join(jobDir, 'env'), path: path.join(jobDir, 'path'), summary: path.join(jobDir, 'summary.md') };
  for (const f of Object.values(files)) fs.writeFileSync(f, '');
  (r.contexts.github as Record<string, Value>).workspace = workspace;

  const state = {
    paths: [] as string[],
    env: {} as Record<string, string>,
    steps: {} as Record<string, { outcome: string; conclusion: string; outputs: Record<string, string> }>,
    status: 'success' as 'success' | 'failure',
    snapshot: '' as string,
  };
  const ctx = (extraEnv: Record<string, string> = {}): ExpressionContext => ({
    contexts: { ...r.contexts, env: { ...envOf(r.doc.env), ...envOf(r.job.env), ...state.env, ...extraEnv }, steps: state.steps as unknown as Value, runner: { temp: runnerTemp, os: 'Linux' }, job: { status: state.status } },
    jobStatus: state.status,
  });
  // env values are expressions evaluated in order: workflow, then job (which may use the workflow's).
  const evalEnv = (raw: Record<string, unknown> | undefined, base: Record<string, string>): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw ?? {})) out[k] = asText(interpolate(v, ctx({ ...base, ...out })));
    return out;
  };
  const workflowEnv = evalEnv(r.doc.env, {});
  const jobEnv = evalEnv(r.job.env, workflowEnv);
  const concurrency = r.job.concurrency === undefined ? undefined : groupOf(r.job.concurrency, ctx({ ...workflowEnv, ...jobEnv }));
  const environment = r.job.environment === undefined ? undefined : asText(interpolate(r.job.environment, ctx()));
  const steps: StepResult[] = [];

  const runSteps = async (list: Step[], scope: { inputs?: Record<string, Value>; prefix?: string; cwd?: string }) => {
    for (const [index, step] of list.entries()) {
      const name = step.name ?? step.uses ?? (step.run ?? '').split('\n')[0]!.trim();
      const localCtx = ctx({ ...workflowEnv, ...jobEnv });
      if (scope.inputs) (localCtx.contexts as Record<string, Value>).inputs = scope.inputs;
      if (!condition(step.if, localCtx)) {
        steps.push({ name, outcome: 'skipped', stdout: '', stderr: '' });
        if (step.id) state.steps[step.id] = { outcome: 'skipped', conclusion: 'skipped', outputs: {} };
        continue;
      }
      const stepEnv = { ...workflowEnv, ...jobEnv, ...state.env, ...evalEnv(step.env, { ...workflowEnv, ...jobEnv, ...state.env }) };
      const withValues = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, interpolate(v, { ...localCtx, contexts: { ...localCtx.contexts, env: { ...(localCtx.contexts.env as object), ...stepEnv } } })]));
      let result: StepResult;
      const outputFile = path.join(jobDir, `output-${scope.prefix ?? ''}${index}`);
      fs.writeFileSync(outputFile, '');
      if (step.run !== undefined) {
        const shell = step.shell ?? r.doc.defaults?.run?.shell ?? 'bash';
        if (shell !== 'bash') throw new Error(`step ${name}: shell ${shell} is not what the runner test models`);
        result = await runBash(name, step.run, {
          cwd: path.join(workspace, step['working-directory'] ?? scope.cwd ?? ''),
          env: {
            ...stepEnv,
            PATH: [...state.paths, path.join(STUBS, 'base'), ...SYSTEM_PATH].join(':'),
            HOME: home,
            CI: 'true',
            GITHUB_ACTIONS: 'true',
            GITHUB_WORKSPACE: workspace,
            GITHUB_REPOSITORY: 'example/keys',
            GITHUB_RUN_ID: String((r.contexts.github as Record<string, Value>).run_id),
            GITHUB_REF: String((r.contexts.github as Record<string, Value>).ref),
            GITHUB_ACTOR: 'octo-operator',
            GITHUB_EVENT_NAME: r.options.event,
            GITHUB_SERVER_URL: 'https://github.com',
            GITHUB_ENV: files.env,
            GITHUB_PATH: files.path,
            GITHUB_OUTPUT: outputFile,
            GITHUB_STEP_SUMMARY: files.summary,
            RUNNER_TEMP: runnerTemp,
            RUNNER_OS: 'Linux',
            LANG: 'C.UTF-8',
            STUB_LOG: r.stubLog,
            ...(r.options.stubEnv ?? {}),
          },
        });
      } else if (step.uses !== undefined) {
        result = await runAction(name, step.uses, withValues, { r, workspace, state, outputFile, runSteps, stepEnv });
      } else {
        throw new Error(`step ${name} has neither run nor uses`);
      }
      const outputs = readKeyValueFile(outputFile);
      steps.push({ ...result, outputs });
      if (step.id) state.steps[step.id] = { outcome: result.outcome, conclusion: result.outcome, outputs };
      Object.assign(state.env, readKeyValueFile(files.env));
      fs.writeFileSync(files.env, '');
      state.paths.unshift(...fs.readFileSync(files.path, 'utf8').split('\n').filter(Boolean).reverse());
      fs.writeFileSync(files.path, '');
      if (result.outcome === 'failure') state.status = 'failure';
    }
  };
  await runSteps(r.job.steps, {});
  const outputs = Object.fromEntries(Object.entries(r.job.outputs ?? {}).map(([k, v]) => [k, asText(interpolate(v, ctx()))]));
  return {
    id: r.id,
    ...(r.matrix ? { matrix: r.matrix } : {}),
    result: state.status,
    steps,
    outputs,
    ...(concurrency ? { concurrency } : {}),
    ...(environment ? { environment } : {}),
    workspace,
    summary: fs.readFileSync(files.summary, 'utf8'),
  };
}

function envOf(raw: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(raw ?? {}).filter(([, v]) => typeof v !== 'string' || !v.includes('${{')).map(([k, v]) => [k, String(v)]));
}

function asText(v: Value): string {
  return v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** $GITHUB_OUTPUT / $GITHUB_ENV syntax: `key=value` lines and `key<<DELIM … DELIM` blocks. */
export function readKeyValueFile(file: string): Record<string, string> {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: Record<string, string> = {};
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const value: string[] = [];
      for (i += 1; i < lines.length && lines[i] !== heredoc[2]; i += 1) value.push(lines[i]!);
      out[heredoc[1]!] = value.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

function runBash(name: string, script: string, opts: { cwd: string; env: Record<string, string> }): Promise<StepResult> {
  const file = path.join(path.dirname(opts.env.GITHUB_OUTPUT!), `script-${Math.random().toString(16).slice(2)}.sh`);
  fs.writeFileSync(file, script);
  return new Promise((resolve) => {
    // Exactly what the runner does for `shell: bash`.
    const child = spawn('/bin/bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], { cwd: opts.cwd, env: opts.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ name, outcome: code === 0 ? 'success' : 'failure', stdout, stderr, exitCode: code ?? -1 }));
  });
}

function dirHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      hash.update(p);
      if (e.isDirectory()) walk(p);
      else hash.update(fs.readFileSync(p));
    }
  };
  walk(dir);
  return hash.digest('hex');
}

function copyRepo(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
}

interface ActionScope {
  readonly r: JobRun;
  readonly workspace: string;
  readonly state: { paths: string[]; env: Record<string, string>; snapshot: string };
  readonly outputFile: string;
  readonly runSteps: (steps: Step[], scope: { inputs?: Record<string, Value>; prefix?: string }) => Promise<void>;
  readonly stepEnv: Record<string, string>;
}

async function runAction(name: string, uses: string, inputs: Record<string, Value>, scope: ActionScope): Promise<StepResult> {
  const ok = (stdout = ''): StepResult => ({ name, outcome: 'success', stdout, stderr: '' });
  const failed = (stderr: string): StepResult => ({ name, outcome: 'failure', stdout: '', stderr });
  const action = uses.split('@')[0]!;
  const { r, workspace, state } = scope;
  switch (action) {
    case 'actions/checkout': {
      if (inputs['persist-credentials'] !== false) return failed('checkout without persist-credentials: false');
      if (inputs.path) {
        const source = inputs.ref === 'main' ? (r.options.latestMain ?? r.options.repo) : r.options.repo;
        copyRepo(source, path.join(workspace, String(inputs.path)));
      } else {
        copyRepo(r.options.repo, workspace);
        state.snapshot = dirHash(path.join(workspace, 'state'));
      }
      return ok();
    }
    case 'actions/setup-node': {
      // Node itself only: npm stays the stub (a real `npm ci` here would reinstall the linked node_modules).
      const nodeDir = path.join(r.root, 'node-bin');
      if (!fs.existsSync(nodeDir)) {
        fs.mkdirSync(nodeDir);
        fs.symlinkSync(process.execPath, path.join(nodeDir, 'node'));
      }
      state.paths.unshift(nodeDir);
      return ok();
    }
    case 'hashicorp/setup-terraform':
      if (inputs.terraform_wrapper !== false) return failed('terraform_wrapper must be false: the wrapper adds output to terraform show -json');
      state.paths.unshift(path.join(STUBS, 'terraform-bin'));
      return ok();
    case 'aws-actions/configure-aws-credentials':
      if (!inputs['role-to-assume'] || !inputs['aws-region']) return failed(`Input required and not supplied: ${!inputs['aws-region'] ? 'aws-region' : 'role-to-assume'}`);
      Object.assign(state.env, r.options.aws, { AWS_REGION: String(inputs['aws-region']), AWS_DEFAULT_REGION: String(inputs['aws-region']) });
      return ok();
    case 'actions/upload-artifact': {
      const lines = String(inputs.path).split('\n').map((l) => l.trim()).filter(Boolean);
      const sources = lines.map((l) => path.join(workspace, l));
      const missing = sources.filter((s) => !fs.existsSync(s));
      if (missing.length > 0 && inputs['if-no-files-found'] === 'error') return failed(`No files were found with the provided path: ${missing.join(', ')}`);
      const common = commonDir(sources.filter((s) => fs.existsSync(s)).map((s) => (fs.statSync(s).isDirectory() ? s : path.dirname(s))));
      const target = path.join(r.artifacts, String(inputs.name));
      for (const s of sources.filter((x) => fs.existsSync(x))) fs.cpSync(s, path.join(target, path.relative(common, s)), { recursive: true });
      return ok();
    }
    case 'actions/download-artifact': {
      const source = path.join(r.artifacts, String(inputs.name));
      if (!fs.existsSync(source)) return failed(`Artifact not found: ${String(inputs.name)}`);
      fs.cpSync(source, path.join(workspace, String(inputs.path ?? '.')), { recursive: true });
      return ok();
    }
    case 'peter-evans/create-pull-request': {
      const changed = dirHash(path.join(workspace, 'state')) !== state.snapshot;
      if (changed) {
        r.pullRequests.push({ job: r.id, title: String(inputs.title), branch: String(inputs.branch), paths: String(inputs['add-paths']) });
        fs.appendFileSync(scope.outputFile, `pull-request-url=https://github.com/example/keys/pull/${r.pullRequests.length}\npull-request-operation=created\n`);
      }
      return ok(changed ? 'created a pull request' : 'no changes: no pull request');
    }
    default:
      if (action.startsWith('./')) {
        const doc = parse(fs.readFileSync(path.join(workspace, action, 'action.yml'), 'utf8')) as { inputs?: Record<string, { required?: boolean }>; runs: { using: string; steps: Step[] } };
        if (doc.runs.using !== 'composite') return failed(`${action} is not a composite action`);
        for (const [k, def] of Object.entries(doc.inputs ?? {})) if (def.required && (inputs[k] === undefined || inputs[k] === '')) return failed(`Input required and not supplied: ${k}`);
        await scope.runSteps(doc.runs.steps, { inputs, prefix: `${action.replace(/\W/g, '_')}-` });
        return ok();
      }
      throw new Error(`the workflow test does not model action ${uses}`);
  }
}

function commonDir(dirs: readonly string[]): string {
  if (dirs.length === 0) return '/';
  let common = dirs[0]!;
  while (!dirs.every((d) => d === common || d.startsWith(`${common}${path.sep}`))) common = path.dirname(common);
  return common;
}
