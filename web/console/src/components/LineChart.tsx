// A line chart of a few series over time, drawn as SVG from series.ts: the console needs two small
// charts (lag, backlog) and nothing a chart library adds earns its weight here. Each series has
// its own dash pattern and end marker as well as its colour, and the figures are also in a table
// beside it, so nothing is told by colour alone; the SVG is described by its title.
import { frameFor, linePath, type Series } from "../lib/series";
import { formatCount } from "../lib/format";

const STYLES = [
  { color: "#1f5fa8", dash: "", marker: "circle" },
  { color: "#b3261e", dash: "6 3", marker: "square" },
  { color: "#2e7d32", dash: "2 3", marker: "triangle" },
  { color: "#6a3fa0", dash: "10 3 2 3", marker: "diamond" },
  { color: "#8a5a00", dash: "1 2", marker: "circle" },
  { color: "#00695c", dash: "8 4", marker: "square" },
  { color: "#37474f", dash: "4 2 4 6", marker: "triangle" },
  { color: "#ad1457", dash: "12 2", marker: "diamond" },
] as const;

const W = 560;
const H = 160;
const PAD = { left: 48, right: 12, top: 10, bottom: 24 };

function Marker({ kind, x, y, color }: { kind: string; x: number; y: number; color: string }) {
  if (kind === "square") return <rect x={x - 3.5} y={y - 3.5} width={7} height={7} fill={color} />;
  if (kind === "triangle") return <path d={`M${x},${y - 4.5}L${x + 4.5},${y + 3.5}L${x - 4.5},${y + 3.5}Z`} fill={color} />;
  if (kind === "diamond") return <path d={`M${x},${y - 5}L${x + 5},${y}L${x},${y + 5}L${x - 5},${y}Z`} fill={color} />;
  return <circle cx={x} cy={y} r={4} fill={color} />;
}

export function LineChart({ title, series, unit }: { title: string; series: Series[]; unit: string }) {
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const frame = frameFor(series, innerW, innerH);
  const seconds = Math.round((frame.t1 - frame.t0) / 1000);
  const titleId = `chart-${title.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={titleId} className="chart-svg">
        <title id={titleId}>{`${title}: ${series.length} series over the last ${seconds} s; the figures are in the table below`}</title>
        <g transform={`translate(${PAD.left},${PAD.top})`}>
          {[0, 0.5, 1].map((f) => (
            <g key={f}>
              <line x1={0} x2={innerW} y1={innerH * (1 - f)} y2={innerH * (1 - f)} className="chart-grid" />
              {Number.isInteger(frame.vMax * f) ? (
                <text x={-6} y={innerH * (1 - f) + 4} textAnchor="end" className="chart-axis">
                  {formatCount(frame.vMax * f)}
                </text>
              ) : null}
            </g>
          ))}
          <text x={0} y={innerH + 18} className="chart-axis">
            {seconds ? `${seconds} s ago` : "now"}
          </text>
          <text x={innerW} y={innerH + 18} textAnchor="end" className="chart-axis">
            now
          </text>
          {series.map((s, i) => {
            const style = STYLES[i % STYLES.length]!;
            const path = linePath(s.points, frame);
            const last = s.points[s.points.length - 1];
            const span = frame.t1 - frame.t0;
            return (
              <g key={s.name}>
                <path d={path} fill="none" stroke={style.color} strokeWidth={2} strokeDasharray={style.dash || undefined} />
                {last ? (
                  <Marker
                    kind={style.marker}
                    color={style.color}
                    x={span > 0 ? ((last.t - frame.t0) / span) * innerW : innerW}
                    y={innerH - (Math.min(last.v, frame.vMax) / frame.vMax) * innerH}
                  />
                ) : null}
              </g>
            );
          })}
        </g>
      </svg>
      <figcaption>
        <ul className="legend" aria-label={`${title} legend`}>
          {series.map((s, i) => {
            const style = STYLES[i % STYLES.length]!;
            const last = s.points[s.points.length - 1];
            return (
              <li key={s.name}>
                <svg width="34" height="12" aria-hidden="true">
                  <line x1="1" x2="24" y1="6" y2="6" stroke={style.color} strokeWidth="2" strokeDasharray={style.dash || undefined} />
                  <Marker kind={style.marker} color={style.color} x={28} y={6} />
                </svg>
                {s.name}: {last ? `${formatCount(last.v)} ${unit}` : "—"}
              </li>
            );
          })}
        </ul>
      </figcaption>
    </figure>
  );
}
