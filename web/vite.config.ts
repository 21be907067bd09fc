import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The Rust gateway serves the API and the WebSocket; the dev server proxies to it.
const GATEWAY = 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': GATEWAY,
      '/ws': { target: GATEWAY, ws: true },
    },
  },
  build: {
    outDir: 'dist',
    // Split large vendor libraries into their own cacheable chunks.
    rollupOptions: { output: { manualChunks: { react: ['react', 'react-dom', 'react-router-dom'], recharts: ['recharts'] } } },
  },
  test: {
    environment: 'jsdom',
    // Unit tests only; e2e/ holds browser scripts run against a live gateway.
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['./src/test/setup.ts'],
  },
});
