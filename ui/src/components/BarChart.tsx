/** A plain SVG bar chart: one bar per point, a value axis from zero, labels under the bars. */
import { useEffect, useState } from "preact/hooks";

export interface Bar {
  label: string;
  value: number;
  /** The text of the bar's tooltip and of its row in the data table. */
  text: string;
}

const HEIGHT = 220;
const LEFT = 64;
const BOTTOM = 40;
const TOP = 12;

/** Round `max` up to 1, 2 or 5 times a power of ten, so the axis reads well. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 5, 10].find((factor) => factor * power >= max) ?? 10;
  return step * power;
}

/** The width of an element in CSS pixels, followed as it changes (so text is drawn at its size). */
function useWidth(fallback: number): [(element: HTMLElement | null) => void, number] {
  const [element, setElement] = useState<HTMLElement | null>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    if (!element) return;
    const observer = new ResizeObserver(() => setWidth(Math.max(200, Math.round(element.clientWidth))));
    observer.observe(element);
    return () => observer.disconnect();
  }, [element]);
  return [setElement, width];
}

export function BarChart({ bars, label, format }: { bars: Bar[]; label: string; format: (value: number) => string }) {
  const [measure, WIDTH] = useWidth(480);
  const low = Math.min(0, ...bars.map((bar) => bar.value));
  const high = niceMax(Math.max(0, ...bars.map((bar) => bar.value)));
  const plot = HEIGHT - TOP - BOTTOM;
  const y = (value: number) => TOP + plot - ((value - low) / (high - low || 1)) * plot;
  const slot = (WIDTH - LEFT) / Math.max(bars.length, 1);
  const barWidth = Math.max(2, Math.min(48, slot * 0.7));
  // Skip labels so that they do not overlap: about one per 70 units of width.
  const every = Math.max(1, Math.ceil(bars.length / ((WIDTH - LEFT) / 80)));
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((fraction) => low + (high - low) * fraction);
  return (
    <figure class="bar-chart" ref={measure}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label}>
        {ticks.map((tick) => (
          <g class="bar-chart-tick">
            <line x1={LEFT} x2={WIDTH} y1={y(tick)} y2={y(tick)} />
            <text x={LEFT - 6} y={y(tick) + 4} text-anchor="end">
              {format(tick)}
            </text>
          </g>
        ))}
        {bars.map((bar, index) => {
          const x = LEFT + slot * index + (slot - barWidth) / 2;
          const top = Math.min(y(bar.value), y(0));
          return (
            <g class="bar-chart-bar" data-label={bar.label}>
              <rect x={x} y={top} width={barWidth} height={Math.max(1, Math.abs(y(bar.value) - y(0)))}>
                <title>{`${bar.label}: ${bar.text}`}</title>
              </rect>
              {index % every === 0 && (
                <text x={x + barWidth / 2} y={HEIGHT - BOTTOM + 16} text-anchor="middle">
                  {bar.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <details>
          <summary>Data table</summary>
          <table class="table compact">
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {bars.map((bar) => (
                <tr>
                  <td>{bar.label}</td>
                  <td>{bar.text}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      </figcaption>
    </figure>
  );
}
