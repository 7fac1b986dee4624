#!/usr/bin/env node
// `kubectl sluice <Tab>`: kubectl (1.26 and later) asks an executable named kubectl_complete-sluice on PATH for a
// plugin's completions; this is streamctl's completion under that name (main.js answers in kubectl's format from here).
const main = new URL('../dist/main.js', import.meta.url);
import(main.href).catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(main.pathname)) {
    process.stderr.write('kubectl sluice (streamctl) is not built yet: run npm run build in the Sluice repository root, then try again\n');
    process.exit(1);
  }
  throw error;
});
