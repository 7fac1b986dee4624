// @sluice/runtime/time: durations as the job YAML and streamctl's flags write them, without the rest of the runtime.
export * from './duration.js';
