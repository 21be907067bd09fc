import { Section } from '../components/Section';

export function SettingsPage() {
  return (
    <Section title="Settings">
      <p className="text-sm text-muted">
        Not built yet. This page will hold exchange connections, API keys and global risk limits once the
        backend exposes them.
      </p>
    </Section>
  );
}
