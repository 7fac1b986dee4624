// Jest loads global teardown outside its module mapper, so the TypeScript hooks come in through tsx.
import { tsImport } from 'tsx/esm/api';

export default async function globalTeardown() {
  const hooks = await tsImport('./jest-hooks.ts', import.meta.url);
  await hooks.globalTeardown();
}
