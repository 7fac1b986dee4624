// Jest loads global setup outside its module mapper, so the TypeScript hooks come in through tsx.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const hooks = await tsImport('./jest-hooks.ts', import.meta.url);
  await hooks.globalSetup();
}
