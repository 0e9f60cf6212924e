/**
 * A bar chart drawn on the server as SVG: labelled axes, a `<title>` and a `<desc>` that
 * screen readers announce, a tooltip per bar, and the numbers as a table underneath, so
 * it reads without JavaScript, images or colour.
 */

export interface ChartProps {
  /** Unique in the page: ids of the title and description derive from it. */
  id: string;
  title: string;
  /** Days `YYYY-MM-DD`, oldest first, and one value per day. */
  days: readonly string[];
  values: readonly number[];
  /** Unit of the y axis, e.g. "requests". */
  unit: string;
}

const W = 360;
const H = 190;
const M = { top: 12, right: 10, bottom: 42, left: 44 };

/**
 * The y axis: a step of 1, 2 or 5 times a power of ten giving at most five intervals, and
 * the top as a whole number of steps at or above `max`.
 *
 * @example yAxis(13) // { top: 15, step: 5 }
 */
export function yAxis(max: number): { top: number; step: number } {
  if (max <= 1) return { top: 1, step: 1 };
  const power = 10 ** Math.floor(Math.log10(max / 5));
  let step = power;
  for (const m of [1, 2, 5, 10]) {
    step = m * power;
    if (max / step <= 5) break;
  }
  step = Math.max(1, step);
  return { top: Math.ceil(max / step) * step, step };
}

const compact = (n: number) =>
  n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);

/** One-sentence description of a series, used as the chart's `<desc>`. */
export function describeSeries(days: readonly string[], values: readonly number[], unit: string): string {
  if (days.length === 0) return `No ${unit} in the selected days.`;
  let peak = 0;
  let total = 0;
  values.forEach((v, i) => {
    total += v;
    if (v > (values[peak] ?? 0)) peak = i;
  });
  const span = `${days[0]} to ${days[days.length - 1]}`;
  if (total === 0) return `No ${unit} from ${span}.`;
  return `${unit} per day from ${span}: highest ${values[peak]} on ${days[peak]}, latest ${values[values.length - 1]} on ${days[days.length - 1]}.`;
}

export function BarChart(props: ChartProps) {
  const { days, values, unit } = props;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const { top, step } = yAxis(Math.max(0, ...values));
  const slot = plotW / Math.max(1, days.length);
  const barW = Math.max(1, slot * 0.75);
  const y = (v: number) => M.top + plotH - (v / top) * plotH;
  const ticks = Array.from({ length: top / step + 1 }, (_, i) => i * step);
  const labelEvery = Math.max(1, Math.ceil(days.length / 5));
  const titleId = `${props.id}-title`;
  const descId = `${props.id}-desc`;
  return (
    <figure style="margin:0">
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-labelledby={`${titleId} ${descId}`}>
        <title id={titleId}>{props.title}</title>
        <desc id={descId}>{describeSeries(days, values, unit)}</desc>
        <g font-size="10" fill="#5b6270">
          {ticks.map((t) => (
            <g>
              <line x1={M.left} x2={W - M.right} y1={y(t)} y2={y(t)} stroke="#e5e8ee" />
              <text x={M.left - 4} y={y(t) + 3} text-anchor="end">
                {compact(t)}
              </text>
            </g>
          ))}
          {days.map((d, i) =>
            i % labelEvery === 0 || i === days.length - 1 ? (
              <text x={M.left + slot * i + slot / 2} y={H - M.bottom + 13} text-anchor="middle">
                {d.slice(5)}
              </text>
            ) : null,
          )}
          <text x={M.left + plotW / 2} y={H - 6} text-anchor="middle" fill="#1d1d1f">
            day (UTC)
          </text>
          <text
            transform={`translate(11 ${M.top + plotH / 2}) rotate(-90)`}
            text-anchor="middle"
            fill="#1d1d1f"
          >
            {unit}
          </text>
        </g>
        <line x1={M.left} x2={M.left} y1={M.top} y2={M.top + plotH} stroke="#8a919e" />
        <line x1={M.left} x2={W - M.right} y1={M.top + plotH} y2={M.top + plotH} stroke="#8a919e" />
        {values.map((v, i) =>
          v > 0 ? (
            <rect
              x={M.left + slot * i + (slot - barW) / 2}
              y={y(v)}
              width={barW}
              height={M.top + plotH - y(v)}
              fill="#1a4fd6"
            >
              <title>{`${days[i]}: ${v} ${unit}`}</title>
            </rect>
          ) : null,
        )}
      </svg>
      <figcaption>
        <b>{props.title}</b>
        <details>
          <summary>Numbers</summary>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th>day</th>
                  <th class="num">{unit}</th>
                </tr>
              </thead>
              <tbody>
                {days.map((d, i) => (
                  <tr>
                    <td>{d}</td>
                    <td class="num">{values[i]}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      </figcaption>
    </figure>
  );
}
