import { Outlet } from 'react-router-dom';
import { useLiveUpdates } from '../hooks/useLiveUpdates';
import { Header } from './Header';
import { Sidebar } from './Sidebar';

/** App shell: header, sidebar navigation and the routed page. */
export function Layout() {
  useLiveUpdates();
  return (
    <div className="flex min-h-screen flex-col">
      <Header />
      <div className="flex flex-1">
        <Sidebar />
        <main className="flex-1 overflow-auto p-6">
          <Outlet />
        </main>
      </div>
    </div>
  );
}
