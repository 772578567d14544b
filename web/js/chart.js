// @ts-check
// A small horizontal bar chart: per plan, available vs assigned. Plain SVG, no library.
import { formatNumber, h, s } from './dom.js';

const ROW = 34;
const BAR = 11;
const LABEL_W = 250;
const WIDTH = 760;
const RIGHT = 56;

/** @param {number} value */
function niceMax(value) {
  if (value <= 5) return 5;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * @param {string} text
 * @param {number} [max]
 */
function truncate(text, max = 32) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** @typedef {{ label: string, sublabel?: string, available: number, assigned: number, over: boolean }} ChartItem */

/**
 * @param {ChartItem[]} items
 * @param {{ title?: string }} [options]
 */
export function availableVsAssignedChart(items, { title = 'Available vs assigned per plan' } = {}) {
  const max = niceMax(Math.max(1, ...items.flatMap((i) => [i.available, i.assigned])));
  const plotW = WIDTH - LABEL_W - RIGHT;
  const height = items.length * ROW + 30;
  const x = (/** @type {number} */ v) => LABEL_W + (Math.max(0, v) / max) * plotW;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const titleId = `chart-title-${Math.random().toString(36).slice(2, 8)}`;
  const desc = items
    .map(
      (i) =>
        `${i.label}${i.sublabel ? ` (${i.sublabel})` : ''}: ${i.available} available, ${i.assigned} assigned${i.over ? ' (over-assigned)' : ''}`,
    )
    .join('; ');

  const svg = s(
    'svg',
    {
      class: 'chart',
      viewBox: `0 0 ${WIDTH} ${height}`,
      role: 'img',
      'aria-labelledby': titleId,
      preserveAspectRatio: 'xMinYMin meet',
    },
    s('title', { id: titleId }, `${title}. ${desc}`),
    ...ticks.map((t) =>
      s(
        'g',
        { class: 'tick' },
        s('line', { x1: x(t), x2: x(t), y1: 0, y2: items.length * ROW }),
        s('text', { x: x(t), y: items.length * ROW + 16, 'text-anchor': 'middle' }, formatNumber(Math.round(t))),
      ),
    ),
    ...items.map((item, index) => {
      const y = index * ROW + 6;
      return s(
        'g',
        { class: `bar-row${item.over ? ' over' : ''}` },
        s(
          'text',
          { class: 'bar-label', x: LABEL_W - 10, y: item.sublabel ? y + BAR - 1 : y + BAR + 4, 'text-anchor': 'end' },
          truncate(item.label) !== item.label ? s('title', null, item.label) : null,
          truncate(item.label),
        ),
        item.sublabel
          ? s(
              'text',
              { class: 'bar-sublabel', x: LABEL_W - 10, y: y + 2 * BAR + 2, 'text-anchor': 'end' },
              truncate(item.sublabel, 38),
            )
          : null,
        s(
          'rect',
          {
            class: 'bar-available',
            x: LABEL_W,
            y,
            width: Math.max(1, x(item.available) - LABEL_W),
            height: BAR,
            rx: 2,
          },
          s('title', null, `${item.label}: ${item.available} available`),
        ),
        s('text', { class: 'bar-value', x: x(item.available) + 4, y: y + BAR - 1 }, formatNumber(item.available)),
        s(
          'rect',
          {
            class: 'bar-assigned',
            x: LABEL_W,
            y: y + BAR + 2,
            width: Math.max(1, x(item.assigned) - LABEL_W),
            height: BAR,
            rx: 2,
          },
          s('title', null, `${item.label}: ${item.assigned} assigned${item.over ? ' (over-assigned)' : ''}`),
        ),
        s(
          'text',
          { class: 'bar-value', x: x(item.assigned) + 4, y: y + 2 * BAR + 1 },
          `${formatNumber(item.assigned)}${item.over ? ' !' : ''}`,
        ),
      );
    }),
  );

  return h(
    'figure',
    { class: 'chart-figure' },
    svg,
    h(
      'figcaption',
      { class: 'chart-legend' },
      h(
        'span',
        { class: 'legend-item' },
        h('span', { class: 'swatch swatch-available', 'aria-hidden': 'true' }),
        'Available',
      ),
      h(
        'span',
        { class: 'legend-item' },
        h('span', { class: 'swatch swatch-assigned', 'aria-hidden': 'true' }),
        'Assigned',
      ),
      h(
        'span',
        { class: 'legend-item' },
        h('span', { class: 'swatch swatch-over', 'aria-hidden': 'true' }),
        'Over-assigned (!)',
      ),
    ),
  );
}
