import { defineConfig } from 'vite';

// `vite build web` writes the app to web/dist, which `warren serve` serves.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1000,
  },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:7777', ws: true } } },
});
