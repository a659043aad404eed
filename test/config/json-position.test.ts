import { findJsonSyntaxProblem } from '../../pipeline/config/json-position';

describe('findJsonSyntaxProblem', () => {
  it('GIVEN valid JSON THEN there is no problem', () => {
    expect(findJsonSyntaxProblem('{"a": [1, -2.5e3, "x\\n\\u00e9", true, null, {}]}')).toBeUndefined();
  });

  it.each([
    ['{"a": 1 "b": 2}', 1, 9, 'expected "," or "}" after a property value'],
    ['{\n  "a": [1, 2,]\n}', 2, 13, 'trailing comma before "]"'],
    ['{"a": "unterminated}', 1, 7, 'string is never closed'],
    ['{"a": "bad \\q escape"}', 1, 12, 'bad escape \\q'],
    ['{"a": 1} extra', 1, 10, 'after the end of the JSON value'],
    ["{'a': 1}", 1, 2, 'expected a double-quoted property name'],
    ['{"a" 1}', 1, 6, 'expected ":" after the property name'],
    ['{"a": tru}', 1, 7, 'expected a value'],
    ['{"a": "tab\there"}', 1, 11, 'control character inside a string'],
  ])('GIVEN %j THEN it points at line %i, column %i: %s', (text, line, column, message) => {
    const problem = findJsonSyntaxProblem(text);
    expect(problem).toMatchObject({ line, column });
    expect(problem!.message).toContain(message);
  });
});
