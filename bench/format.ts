/**
 * How the benchmarks write numbers into their tables and verdicts. A figure that could not be
 * measured (NaN, a division by zero) prints as "–" rather than "NaN" or "Infinity".
 */

export const fixed = (value: number, digits: number) =>
  Number.isFinite(value) ? value.toFixed(digits) : '–'

/** Rounded, with thousands separators: 12,345. */
export const thousands = (value: number) =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–'

/** Milliseconds with two decimals, or whole microseconds below 0.1 ms (where 0.00 says nothing). */
export const ms = (value: number) =>
  !Number.isFinite(value) ? '–' : value < 0.1 ? fixed(value * 1000, 0) + ' µs' : fixed(value, 2)

/** `value / reference` as "1.23×", or "–" when either is missing or the reference is 0. */
export const ratio = (value: number, reference: number | undefined) =>
  reference === undefined ||
  !Number.isFinite(value) ||
  !Number.isFinite(reference) ||
  reference === 0
    ? '–'
    : `${(value / reference).toFixed(2)}×`

/** A target's verdict; "not met" in bold so that it stands out in the README. */
export const mark = (met: boolean) => (met ? 'met' : '**not met**')
