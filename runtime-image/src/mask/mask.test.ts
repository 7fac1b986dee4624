// The mask methods on their own: what each makes of a card number, an email and a nested field, with a fixed key.
import { createHmac } from 'node:crypto';
import { hmac, masker, REDACTED, tokenise, truncate } from './mask.js';

const key = Buffer.from('a test key of thirty-two bytes!!');
const otherKey = Buffer.from('another key');

describe('the mask methods', () => {
  it('hmac is HMAC-SHA256 of the value under the key, hex by default or base64, and differs under another key', () => {
    const expected = createHmac('sha256', key).update('4111111111111111').digest('hex');
    expect(hmac(key, '4111111111111111')).toBe(expected);
    expect(hmac(key, '4111111111111111', 'base64')).toBe(Buffer.from(expected, 'hex').toString('base64'));
    expect(hmac(otherKey, '4111111111111111')).not.toBe(expected);
  });

  it('truncate keeps the last n characters, all of a shorter value, none for 0', () => {
    expect(truncate('4111111111111111', 4)).toBe('1111');
    expect(truncate('123', 4)).toBe('123');
    expect(truncate('4111111111111111', 0)).toBe('');
  });

  it('tokenise gives a token of the same shape: digits for digits, letters of the same case, separators kept', () => {
    const card = tokenise(key, '4111-1111-1111-1111');
    expect(card).toMatch(/^\d{4}-\d{4}-\d{4}-\d{4}$/);
    expect(card).not.toBe('4111-1111-1111-1111');
    const email = tokenise(key, 'Alice.Smith@example.com');
    expect(email).toMatch(/^[A-Z][a-z]{4}\.[A-Z][a-z]{4}@[a-z]{7}\.[a-z]{3}$/);
    // Deterministic, so a token still joins and groups; another key gives another token.
    expect(tokenise(key, '4111-1111-1111-1111')).toBe(card);
    expect(tokenise(otherKey, '4111-1111-1111-1111')).not.toBe(card);
    // Fixed across releases: sink keys and joins on tokens depend on it.
    expect([card, email]).toEqual(['7638-4948-1121-6281', 'Krjwz.Rvifp@qmyhkig.obd']);
    // Longer than one HMAC's 32 bytes: every character is still replaced.
    const long = '1'.repeat(100);
    expect(tokenise(key, long)).toMatch(/^\d{100}$/);
    expect(tokenise(key, long).slice(32)).not.toBe('1'.repeat(68));
  });
});

describe('a masker', () => {
  const record = {
    customer_id: 'c1',
    card_number: '4111111111111111',
    email: 'alice@example.com',
    payment: { pan: 4111111111111111, cvv: '123', billing: { zip: '75001' } },
    note: null,
  };

  it('masks top-level and nested fields, leaves other fields and the input record alone', () => {
    const mask = masker(
      [
        { field: 'card_number', with: 'hmac' },
        { field: 'email', with: 'redact' },
        { field: 'payment.pan', with: 'truncate', keep: 4 },
        { field: 'payment.cvv', with: 'redact' },
        { field: 'payment.billing.zip', with: 'tokenise' },
      ],
      key,
    );
    const input = structuredClone(record);
    const masked = mask(input);
    expect(masked).toEqual({
      customer_id: 'c1',
      card_number: hmac(key, '4111111111111111'),
      email: REDACTED,
      payment: { pan: '1111', cvv: REDACTED, billing: { zip: tokenise(key, '75001') } },
      note: null,
    });
    expect(input).toEqual(record);
  });

  it('leaves a missing or null field, or a path through a non-object, as it is', () => {
    const mask = masker(
      [
        { field: 'note', with: 'redact' },
        { field: 'absent', with: 'hmac' },
        { field: 'customer_id.inner', with: 'redact' },
        { field: 'payment.missing.deeper', with: 'redact' },
      ],
      key,
    );
    expect(mask(record)).toEqual(record);
    expect('absent' in mask(record)).toBe(false);
  });

  it('masks numbers by their digits and objects by their JSON, so no value type gets through unmasked', () => {
    const mask = masker([{ field: 'payment', with: 'hmac' }], key);
    expect(mask({ payment: { pan: 4111 } }).payment).toBe(hmac(key, '{"pan":4111}'));
    expect(masker([{ field: 'n', with: 'tokenise' }], key)({ n: 4111111111111111 }).n).toMatch(/^\d{16}$/);
  });

  it('refuses to hmac without a key rather than pass the value through', () => {
    expect(() => masker([{ field: 'card_number', with: 'hmac' }], undefined)(record)).toThrow(/no mask key: card_number is masked with hmac/);
  });
});
