/** The workflow runner's expression evaluator, held to GitHub's documented semantics. */
import { condition, evaluate, interpolate, type ExpressionContext } from './workflow-runner/expressions';

const ctx = (jobStatus: ExpressionContext['jobStatus'] = 'success'): ExpressionContext => ({
  jobStatus,
  contexts: {
    github: { event_name: 'push', ref: 'refs/heads/main', event: { pull_request: null } },
    inputs: { action: 'advance', dry_run: false, run_id: '' },
    steps: { rotate: { outcome: 'skipped', outputs: {} }, waits: { outputs: { waiting: 'true' } } },
    matrix: { stack: 'keys-111111111111-us-east-1' },
    needs: { synth: { outputs: { stacks: '["a","b"]' } } },
  },
});

describe('expressions', () => {
  test('&& and || return operands; ! and comparisons', () => {
    expect(evaluate("github.event_name == 'push' && 'deploy-production' || format('deploy-pr-{0}', github.event.pull_request.number)", ctx())).toBe('deploy-production');
    expect(evaluate("inputs.run_id || 'none'", ctx())).toBe('none');
    expect(evaluate('!inputs.dry_run', ctx())).toBe(true);
    expect(evaluate("steps.waits.outputs.waiting != 'true'", ctx())).toBe(false);
  });

  test('== on strings ignores case; missing properties are null; mixed types compare as numbers', () => {
    expect(evaluate("inputs.action == 'ADVANCE'", ctx())).toBe(true);
    expect(evaluate('steps.nope.outputs.x == null', ctx())).toBe(true);
    expect(evaluate("steps.nope.outputs.x == ''", ctx())).toBe(true);
    expect(evaluate("1 == '1'", ctx())).toBe(true);
  });

  test('functions and templates', () => {
    expect(evaluate('fromJSON(needs.synth.outputs.stacks)', ctx())).toEqual(['a', 'b']);
    expect(interpolate('keyrotor-${{ matrix.stack }}', ctx())).toBe('keyrotor-keys-111111111111-us-east-1');
    expect(interpolate('${{ fromJSON(needs.synth.outputs.stacks) }}', ctx())).toEqual(['a', 'b']);
    expect(evaluate("contains('abc', 'B') && startsWith('abc', 'a') && endsWith('abc', 'c')", ctx())).toBe(true);
  });

  test('if: conditions are wrapped in success() unless they call a status function', () => {
    expect(condition("inputs.action == 'advance'", ctx('failure'))).toBe(false);
    expect(condition("always() && steps.rotate.outcome != 'skipped'", ctx('failure'))).toBe(false);
    expect(condition("always() && inputs.action == 'advance'", ctx('failure'))).toBe(true);
    expect(condition('${{ inputs.action }}', ctx())).toBe(true);
    expect(condition(undefined, ctx('failure'))).toBe(false);
  });

  test('an unknown context or function is an error, never silently null', () => {
    expect(() => evaluate('secretz.TOKEN', ctx())).toThrow(/unknown context secretz/);
    expect(() => evaluate('hashFile(x)', ctx())).toThrow(/unknown/);
  });
});
