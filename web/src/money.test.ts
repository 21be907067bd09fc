import { describe, expect, it } from 'vitest';
import { pnlClass, signOf } from './money';

describe('money', () => {
  it.each([
    ['100.10', 1],
    ['0.0001', 1],
    ['-0.5', -1],
    ['0', 0],
    ['-0.00', 0],
    ['0.000', 0],
  ] as const)('signOf(%s) = %s', (value, sign) => {
    expect(signOf(value)).toBe(sign);
  });

  it('maps signs to the profit/loss colours', () => {
    expect(pnlClass('1')).toBe('text-profit');
    expect(pnlClass('-1')).toBe('text-loss');
    expect(pnlClass('0')).toBe('text-muted');
  });
});
