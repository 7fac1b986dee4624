// Types of classify-tests.mjs for the TypeScript test that checks it.
export declare const workspaces: Record<string, string>;
/** Every `*.test.ts` under rootDir split into unit (its imports never reach test/env) and servers; absolute, sorted. */
export declare function classifyTests(rootDir: string): { unit: string[]; servers: string[] };
