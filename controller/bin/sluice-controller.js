#!/usr/bin/env node
// `sluice-controller`'s entry, committed so that npm links the bin on a fresh clone (npm ci runs before the build): it runs the compiled dist/main.js.
const main = new URL('../dist/main.js', import.meta.url);
import(main.href).catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(main.pathname)) {
    process.stderr.write('sluice-controller is not built yet: run npm run build in the repository root, then try again\n');
    process.exit(1);
  }
  throw error;
});
