import type { Reporter, RunnerTask, RunnerTestFile } from 'vitest';

/**
 * Prints one closing line, `tests: N passed, N failed, N skipped`, that CI reads to know
 * how many tests ran, whatever the default reporter's layout.
 */
export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = []): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const visit = (task: RunnerTask) => {
      if (task.type === 'suite') {
        task.tasks.forEach(visit);
        if (task.result?.state === 'fail' && task.tasks.length === 0) counts.failed += 1;
        return;
      }
      const state = task.result?.state;
      if (state === 'pass') counts.passed += 1;
      else if (state === 'fail') counts.failed += 1;
      else counts.skipped += 1;
    };
    for (const file of files) {
      file.tasks.forEach(visit);
      // A file that failed to load has no tasks but must still count as a failure.
      if (file.result?.state === 'fail' && file.tasks.length === 0) counts.failed += 1;
    }
    process.stdout.write(
      `\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
    );
  }
}
