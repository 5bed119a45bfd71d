// The inference thread's entry point, in plain JavaScript: a worker thread does not inherit the
// TypeScript loader of the process that starts it, so it registers its own.
import { register } from 'tsx/esm/api';

register();
await import('./chunk-thread-main.ts');
