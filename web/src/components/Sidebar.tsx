import { NavLink } from 'react-router-dom';

const LINKS = [
  { to: '/', label: 'Dashboard' },
  { to: '/bots', label: 'Bots' },
  { to: '/backtest', label: 'Backtest' },
  { to: '/reports', label: 'Reports' },
  { to: '/settings', label: 'Settings' },
];

export function Sidebar() {
  return (
    <nav className="w-48 shrink-0 border-r border-border bg-surface p-3" aria-label="Main">
      <ul className="flex flex-col gap-1">
        {LINKS.map(({ to, label }) => (
          <li key={to}>
            <NavLink
              to={to}
              end={to === '/'}
              className={({ isActive }) =>
                `block rounded-md px-3 py-2 text-sm ${
                  isActive ? 'bg-accent/20 text-fg' : 'text-muted hover:bg-border hover:text-fg'
                }`
              }
            >
              {label}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}
