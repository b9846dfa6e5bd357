// Statuses say themselves in words and a symbol; the colour only repeats them (never colour alone).

const TONES: Record<string, { tone: string; symbol: string }> = {
  COMPLETED: { tone: "good", symbol: "✓" },
  up: { tone: "good", symbol: "✓" },
  PUBLISHED: { tone: "good", symbol: "✓" },
  REPLAYED: { tone: "good", symbol: "✓" },
  resolved: { tone: "good", symbol: "✓" },
  clean: { tone: "good", symbol: "✓" },
  FAILED: { tone: "bad", symbol: "✕" },
  down: { tone: "bad", symbol: "✕" },
  failed: { tone: "bad", symbol: "✕" },
  degraded: { tone: "warn", symbol: "!" },
  open: { tone: "warn", symbol: "!" },
  differences: { tone: "warn", symbol: "!" },
  ALREADY_REPLAYED: { tone: "neutral", symbol: "=" },
};

export function Status({ value, label }: { value: string; label?: string }) {
  const { tone, symbol } = TONES[value] ?? { tone: "neutral", symbol: "•" };
  return (
    <span className={`status status-${tone}`}>
      <span aria-hidden="true">{symbol} </span>
      {label ?? value}
    </span>
  );
}
