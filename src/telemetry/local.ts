// Imported first by `npm start` (src/local/start.ts): the distro starts before anything it instruments is loaded.
import { startTelemetry } from './start';

startTelemetry(process.env, 'local');
