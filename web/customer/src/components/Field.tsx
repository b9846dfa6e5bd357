import { useId, type InputHTMLAttributes } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/messages";

interface Props extends Omit<InputHTMLAttributes<HTMLInputElement>, "onChange" | "value"> {
  label: string;
  hint?: string;
  error?: MessageKey | string;
  value: string;
  onChange: (value: string) => void;
}

/** A labelled input whose hint and error are tied to it (aria-describedby, aria-invalid). */
export function Field({ label, hint, error, value, onChange, required, ...input }: Props) {
  const id = useId();
  const { t } = useI18n();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const message = error ? (error.startsWith("error.") ? t(error as MessageKey) : error) : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {required ? <span aria-hidden="true"> *</span> : null}
      </label>
      {hint ? (
        <p id={hintId} className="hint">
          {hint}
        </p>
      ) : null}
      <input
        id={id}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        required={required}
        aria-invalid={error ? true : undefined}
        aria-describedby={[hintId, errorId].filter(Boolean).join(" ") || undefined}
        {...input}
      />
      {message ? (
        <p id={errorId} className="field-error">
          <span aria-hidden="true">⚠ </span>
          {message}
        </p>
      ) : null}
    </div>
  );
}
