// The runner thread's entry point, in plain JavaScript: a worker thread does not inherit the
// TypeScript loader of the process that starts it (tsx's, or a test runner's), so it registers its own.
import { register } from 'tsx/esm/api';

register();
await import('./runner-main.ts');
