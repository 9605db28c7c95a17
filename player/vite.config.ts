import { createReadStream, readFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

// ffmpeg.wasm's single-thread core (~32 MB of wasm) is served by our own origin, never a CDN: copied
// into dist/ffmpeg/<version>/ so the URL changes with the version and can be cached forever.
const coreEsm = join(dirname(createRequire(import.meta.url).resolve('@ffmpeg/core')), '../esm');
const coreVersion = (
  JSON.parse(readFileSync(join(coreEsm, '../../package.json'), 'utf8')) as { version: string }
).version;
const CORE_FILES = ['ffmpeg-core.js', 'ffmpeg-core.wasm'];
const CORE_PATH = `/ffmpeg/${coreVersion}/`;

function ffmpegCore(): Plugin {
  let outDir = 'dist';
  return {
    name: 'dreamdb-ffmpeg-core',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    // `vite` (dev): the files straight from node_modules.
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const file = req.url?.startsWith(CORE_PATH) ? req.url.slice(CORE_PATH.length) : undefined;
        if (!file || !CORE_FILES.includes(file)) return next();
        res.setHeader('content-type', file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        createReadStream(join(coreEsm, file)).pipe(res);
      });
    },
    async closeBundle() {
      const target = join(outDir, CORE_PATH);
      await mkdir(target, { recursive: true });
      for (const file of CORE_FILES) await copyFile(join(coreEsm, file), join(target, file));
    },
  };
}

// The player is served by `dreamdb serve` from player/dist at /, next to the API and the playlists.
export default defineConfig({
  base: '/',
  define: { __FFMPEG_CORE__: JSON.stringify(CORE_PATH) },
  plugins: [ffmpegCore()],
  // The ffmpeg.wasm wrapper starts its worker from its own module URL, which pre-bundling would move.
  optimizeDeps: { exclude: ['@ffmpeg/ffmpeg', '@ffmpeg/util'] },
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
