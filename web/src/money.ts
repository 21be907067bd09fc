// Decimal strings from the API are displayed verbatim: no float arithmetic.

/** Sign of a decimal string: -1, 0 or 1 (zero for "0", "-0.00", "" ...). */
export function signOf(value: string): -1 | 0 | 1 {
  const v = value.trim();
  if (!/[1-9]/.test(v)) return 0;
  return v.startsWith('-') ? -1 : 1;
}

/** Tailwind text colour for a P&L value. */
export function pnlClass(value: string): string {
  const sign = signOf(value);
  if (sign > 0) return 'text-profit';
  if (sign < 0) return 'text-loss';
  return 'text-muted';
}
