import { BotList } from '../components/BotList';
import { Section } from '../components/Section';

export function BotsPage() {
  return (
    <Section title="Bots">
      <BotList />
    </Section>
  );
}
