// The console's charts: Chart.js (from npm, bundled; only the pieces the
// pages draw are registered, so the rest stays out of the build), on a
// canvas that names what it shows for screen readers. A chart is made once
// and then given new data in place, without animation, so a page that
// reads its figures every two seconds does not flicker.
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Filler,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
} from "chart.js";
import { useEffect, useRef } from "preact/hooks";

Chart.register(
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  DoughnutController,
  Filler,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  LogarithmicScale,
  PointElement,
  Tooltip,
);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
Chart.defaults.color = "#66717c";
Chart.defaults.borderColor = "#ece5d8";
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.plugins.legend.labels.boxWidth = 12;
Chart.defaults.plugins.legend.labels.boxHeight = 12;

/** the palette of styles.css, for series */
export const COLORS = {
  ink: "#2c3e4c",
  accent: "#c4522f",
  teal: "#23867a",
  saffron: "#d98a2b",
  violet: "#7452a8",
  red: "#b93a32",
  green: "#2d7d4f",
  blue: "#2a6f97",
  grey: "#8a96a1",
} as const;
export const SERIES = [COLORS.teal, COLORS.accent, COLORS.saffron, COLORS.violet, COLORS.blue, COLORS.green, COLORS.red, COLORS.ink, COLORS.grey];

/** A logarithmic axis of milliseconds: its ticks at 1, 2 and 5 of each
 * decade ("5 ms", "2 s"), the others unlabelled. */
export function logTicks(value: number | string): string {
  const n = Number(value);
  if (!LOG_SHOWN.has(n)) return "";
  return n < 1000 ? `${n} ms` : `${n / 1000} s`;
}
const LOG_SHOWN = new Set([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000]);

/** a colour with alpha (#rrggbb → rgba) for fills */
export function fade(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

export function ChartBox<T extends ChartType>({
  config,
  label,
  height = 220,
  name,
}: {
  config: ChartConfiguration<T>;
  /** what the chart shows, in words (the canvas's accessible name) */
  label: string;
  height?: number;
  /** data-chart, for the tests */
  name: string;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<T> | null>(null);
  useEffect(() => {
    if (!canvas.current) return;
    chart.current = new Chart(canvas.current, config);
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [config.type]);
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.data = config.data;
    if (config.options) c.options = config.options;
    c.update("none");
  }, [config]);
  return (
    <div class="chart" style={{ height: `${height}px` }} data-chart={name}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
