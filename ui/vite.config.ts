// The UI's build: a single-page app the engine embeds and serves at `/` (see
// src-tauri/crates/server/build.rs). The recorder has its own esbuild build (package.json).
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: 'app',
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../dist/app',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npm run dev` serves the UI with hot reload against an engine on the default address.
    proxy: { '/api': 'http://127.0.0.1:4320' },
  },
  test: {
    root: '.',
    include: ['src/**/*.test.ts'],
  },
});
