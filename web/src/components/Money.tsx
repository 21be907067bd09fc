import { pnlClass } from '../money';

interface MoneyProps {
  value: string;
  /** Colour by sign (green profit / red loss). */
  signed?: boolean;
  testId?: string;
}

/** A decimal string from the API, shown exactly as given in monospace. */
export function Money({ value, signed = false, testId }: MoneyProps) {
  return (
    <span data-testid={testId} className={`font-mono tabular-nums ${signed ? pnlClass(value) : ''}`}>
      {value}
    </span>
  );
}
