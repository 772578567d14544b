/**
 * Runs Azurite inside a child that exits with its parent: the parent holds an IPC channel open, and when it goes
 * away (even killed with SIGKILL) the channel closes and Azurite shuts down instead of lingering.
 */
const azuriteMain = require.resolve('azurite/dist/src/azurite.js');
process.argv = [process.argv[0]!, azuriteMain, ...process.argv.slice(2)];
process.on('disconnect', () => {
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.exit(0), 5000).unref();
});
// Azurite's entry point starts the servers when loaded.
void import(azuriteMain);
