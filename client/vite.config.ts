// Build with `vite build client` (root = client/). The client imports browser-safe modules shared with
// the server (common/), so the dev server may read the folder above.
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      // litegraph evaluates arithmetic typed into number widgets ("2*8"): a known, accepted direct eval.
      onwarn(warning, warn) {
        if (warning.code === 'EVAL' && warning.id?.includes('@comfyorg/litegraph')) return;
        warn(warning);
      },
    },
  },
  server: { fs: { allow: ['..'] } },
});
