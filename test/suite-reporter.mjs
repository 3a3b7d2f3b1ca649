// Prints a plain closing line of counts, and under CI=true fails the run when any test or
// suite was skipped: a green run that tested nothing real is a lie.
export default class SuiteReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
    this.error = undefined;
  }

  onRunComplete(_contexts, results) {
    const passed = results.numPassedTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    const backend = process.env.DATABASE_URL ? 'postgres' : 'embedded';
    if (process.env.CI === 'true') {
      const skippedSuites = results.testResults
        .filter((suite) => suite.skipped || (suite.numPendingTests > 0 && suite.numPassingTests === 0))
        .map((suite) => suite.testFilePath);
      if (skipped > 0 || skippedSuites.length > 0 || results.numTotalTests === 0) {
        this.error = new Error(
          `CI=true but ${skipped} test(s) were skipped${skippedSuites.length ? ` (suites: ${skippedSuites.join(', ')})` : ''}` +
            (results.numTotalTests === 0 ? ' and no test ran' : ''),
        );
        process.stderr.write(`\n${this.error.message}\n`);
      }
    }
    process.stdout.write(`\njest [${backend}]: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }

  getLastError() {
    return this.error;
  }
}
