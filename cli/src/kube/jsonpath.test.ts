import { CommandError } from './io.js';
import { formatJsonPath } from './jsonpath.js';

const list = {
  kind: 'List',
  items: [
    { metadata: { name: 'alpha', labels: { 'app.kubernetes.io/name': 'sluice-runtime' } }, status: { phase: 'Running', lag: 12 } },
    { metadata: { name: 'beta' }, status: { phase: 'Suspended' } },
  ],
};

describe('-o jsonpath', () => {
  it('reads fields, indexes and every item, joining several values with spaces as kubectl does', () => {
    expect(formatJsonPath('{.items[*].metadata.name}', list)).toBe('alpha beta');
    expect(formatJsonPath('{.items[0].status.lag}', list)).toBe('12');
    expect(formatJsonPath("{.items[0].metadata.labels['app.kubernetes.io/name']}", list)).toBe('sluice-runtime');
    expect(formatJsonPath('{.items[1].status}', list)).toBe('{"phase":"Suspended"}');
  });

  it('keeps the text around expressions, reads "\\n" literals, and takes a bare path as kubectl does', () => {
    expect(formatJsonPath('name={.items[1].metadata.name}{"\\n"}', list)).toBe('name=beta\n');
    expect(formatJsonPath('.kind', list)).toBe('List');
  });

  it('prints nothing for a field that is not there', () => {
    expect(formatJsonPath('{.items[5].metadata.name}', list)).toBe('');
    expect(formatJsonPath('{.items[1].status.lag}', list)).toBe('');
  });

  it('says what it does not support instead of printing nothing', () => {
    expect(() => formatJsonPath('{range .items[*]}{.metadata.name}{end}', list)).toThrow(CommandError);
    expect(() => formatJsonPath('{.items[?(@.status.phase=="Running")]}', list)).toThrow(/use -o json \| jq for more/);
    expect(() => formatJsonPath('{.items', list)).toThrow('has a { without its }');
  });
});
