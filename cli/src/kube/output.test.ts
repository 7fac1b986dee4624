import { parse } from 'yaml';
import { age, formatFields, formatObject, formatTable } from './output.js';

describe('output', () => {
  it('aligns table columns as kubectl get does, with no trailing spaces', () => {
    expect(
      formatTable(
        ['TYPE', 'STATUS', 'MESSAGE'],
        [
          ['Ready', 'True', 'all pods ready'],
          ['Savepoint', 'False', ''],
        ],
      ),
    ).toBe('TYPE       STATUS  MESSAGE\nReady      True    all pods ready\nSavepoint  False\n');
  });

  it('aligns label: value lines and continues a value of several lines under its first', () => {
    expect(
      formatFields([
        ['Phase', 'Running'],
        ['Last savepoint', 's3://b/sp-1\ntaken just now'],
      ]),
    ).toBe('Phase:           Running\nLast savepoint:  s3://b/sp-1\n                 taken just now\n');
  });

  it('shows ages in seconds, minutes, hours and days', () => {
    const now = new Date('2026-11-27T12:00:00Z');
    expect(age('2026-11-27T11:59:15Z', now)).toBe('45s');
    expect(age('2026-11-27T11:48:00Z', now)).toBe('12m');
    expect(age('2026-11-27T09:00:00Z', now)).toBe('3h');
    expect(age('2026-11-22T12:00:00Z', now)).toBe('5d');
    expect(age(undefined, now)).toBe('-');
  });

  it('prints objects as JSON or YAML that parse back to them', () => {
    const status = { phase: 'Running', parallelism: 2, conditions: [{ type: 'Ready', status: 'True' }] };
    expect(JSON.parse(formatObject(status, 'json'))).toEqual(status);
    expect(parse(formatObject(status, 'yaml'))).toEqual(status);
  });
});
