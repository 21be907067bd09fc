import { BotList } from '../components/BotList';
import { PnlChart } from '../components/PnlChart';
import { Section } from '../components/Section';
import { StatsCards } from '../components/StatsCards';

export function DashboardPage() {
  return (
    <div className="flex flex-col gap-8">
      <StatsCards />
      <Section title="Total P&L">
        <PnlChart />
      </Section>
      <Section title="Bots">
        <BotList />
      </Section>
    </div>
  );
}
