#!/usr/bin/env node
// `kubectl sluice …`: kubectl runs an executable named kubectl-sluice found on PATH as its `sluice` plugin; this is
// streamctl under that name (main.js words its usage as `kubectl sluice` when started from this file).
const main = new URL('../dist/main.js', import.meta.url);
import(main.href).catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(main.pathname)) {
    process.stderr.write('kubectl sluice (streamctl) is not built yet: run npm run build in the Sluice repository root, then try again\n');
    process.exit(1);
  }
  throw error;
});
