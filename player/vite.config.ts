import { defineConfig } from 'vite';

// The player is served by `dreamdb serve` from player/dist at /, next to the API and the playlists.
export default defineConfig({
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 2000 },
  server: {
    proxy: {
      '/v0': 'http://127.0.0.1:8080',
      '/hls': 'http://127.0.0.1:8080',
      '/dash': 'http://127.0.0.1:8080',
      '/objects': 'http://127.0.0.1:8080',
    },
  },
});
