/** A progress line on stderr (stdout carries only the JSON report). */
export const progress = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

/** Cleanup steps, run once in reverse order whether the run succeeds, fails or is interrupted. */
export class Cleanup {
  private readonly steps: { name: string; run: () => Promise<unknown> }[] = [];
  private done: Promise<void> | undefined;

  add(name: string, run: () => Promise<unknown>): void {
    this.steps.push({ name, run });
  }

  run(): Promise<void> {
    this.done ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step.run();
        } catch (error) {
          progress(`cleanup "${step.name}" failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    })();
    return this.done;
  }
}
