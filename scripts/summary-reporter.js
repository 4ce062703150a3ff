/**
 * Jest reporter that ends the run with one plain line, `jest: N passed, N failed`, so that CI logs state the
 * count of tests that ran in a form any reader (or tool) can pick out.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const tail = skipped > 0 ? `, ${skipped} skipped` : '';
    process.stdout.write(`\njest: ${results.numPassedTests} passed, ${results.numFailedTests} failed${tail}\n`);
  }
}
module.exports = SummaryReporter;
