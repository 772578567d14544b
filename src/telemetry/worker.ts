// Imported first by every function module: the distro starts before anything it instruments is loaded.
import { startTelemetry } from './start';

startTelemetry(process.env, 'functions');
