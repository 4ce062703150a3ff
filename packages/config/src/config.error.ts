/** One problem with one environment variable. */
export interface ConfigProblem {
  key: string;
  message: string;
}

/** The environment is invalid. The message names every bad key, so one start-up shows all of them. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';

  constructor(readonly problems: ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}): ` +
        problems.map((p) => `${p.key}: ${p.message}`).join('; '),
    );
    this.name = 'ConfigError';
  }
}
