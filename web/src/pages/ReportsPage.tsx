import { Section } from '../components/Section';

export function ReportsPage() {
  return (
    <Section title="Reports">
      <p className="text-sm text-muted">
        Not built yet. This page will hold per-bot and overall performance reports (P&amp;L, trades, fees)
        once the backend exposes them.
      </p>
    </Section>
  );
}
