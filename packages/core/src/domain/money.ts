/**
 * Converts a decimal amount as POS APIs send it (dollars as a JSON number, e.g. `12.5`) to integer
 * minor units (`1250`), rounding half away from zero at the minor unit. Returns null for a value that
 * is not a finite number.
 */
export function decimalToMinor(amount: number, fractionDigits = 2): number | null {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return null
  const factor = 10 ** fractionDigits
  // toFixed first: 1.005 * 100 is 100.49999999999999 in binary floating point.
  const scaled = Number((Math.abs(amount) * factor).toFixed(6))
  return Math.sign(amount) * Math.round(scaled)
}

/** Integer minor units back to a decimal number for a POS request body (`1250` → `12.5`). */
export function minorToDecimal(minor: number, fractionDigits = 2): number {
  return minor / 10 ** fractionDigits
}
