import { compactLine } from './outputs.js';

describe('compact result lines', () => {
  it('print each field as field=value, strings bare, numbers without binary-fraction noise', () => {
    expect(
      compactLine({
        customer_id: 'C1',
        window_start: '2025-12-05T10:30:00.000Z',
        txn_count: 4,
        txn_sum: 556.3299999999999,
        converted: true,
        last_page: null,
        tags: ['a'],
      }),
    ).toBe('customer_id=C1 window_start=2025-12-05T10:30:00.000Z txn_count=4 txn_sum=556.33 converted=true last_page=null tags=["a"]');
  });
});
