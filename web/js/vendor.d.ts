// The types of the library files the app serves from node_modules under /vendor/ (src/web/static.ts, VENDOR).
declare module '*/vendor/uplot.esm.js' {
  import uPlot from 'uplot';
  export default uPlot;
}
