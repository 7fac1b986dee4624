// Types of classify-tests.mjs for the TypeScript test that checks it.
export declare const workspaces: Record<string, string>;
/**
 * Every `*.test.ts` under rootDir split into unit, programs (no server; it reaches node:child_process) and servers (its
 * imports reach test/env); absolute, sorted.
 */
export declare function classifyTests(rootDir: string): { unit: string[]; programs: string[]; servers: string[] };
