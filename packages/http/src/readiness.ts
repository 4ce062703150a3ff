/** How long a readiness check waits for one dependency before it names it as not answering. */
export const READINESS_TIMEOUT_MS = 3_000;

/**
 * One dependency's check: `true` when it is usable, `false` or a sentence saying what is wrong otherwise. A
 * check that throws is not ready with the error's message; one that does not answer in time is not ready
 * with "no answer within N ms".
 */
export type ReadinessProbe = () => Promise<boolean | string>;

/** The outcome of {@link checkReadiness}. */
export interface Readiness {
  ready: boolean;
  /** Each dependency by name: usable or not. */
  checks: Record<string, boolean>;
  /** What is wrong, for each dependency that is not usable. */
  problems: Record<string, string>;
}

/**
 * The promise's value, or a rejection saying `what` did not answer within `ms`. The promise itself is left
 * to settle on its own (a hung socket is the client's to time out); only the caller stops waiting.
 */
export async function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} did not answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs every probe at once, each bounded by `timeoutMs`, so the answer comes within that bound whatever a
 * dependency does (refuses, hangs, answers slowly), and names what is wrong.
 */
export async function checkReadiness(probes: Record<string, ReadinessProbe>, timeoutMs = READINESS_TIMEOUT_MS): Promise<Readiness> {
  const names = Object.keys(probes);
  const outcomes = await Promise.all(
    names.map(async (name): Promise<true | string> => {
      try {
        const result = await withinMs(probes[name]!(), timeoutMs, name);
        return result === true ? true : result === false ? `${name} is not ready` : result;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    }),
  );
  const checks: Record<string, boolean> = {};
  const problems: Record<string, string> = {};
  names.forEach((name, i) => {
    const outcome = outcomes[i]!;
    checks[name] = outcome === true;
    if (outcome !== true) problems[name] = outcome;
  });
  return { ready: Object.values(checks).every(Boolean), checks, problems };
}
