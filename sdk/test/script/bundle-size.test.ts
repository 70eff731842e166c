/**
 * The built `coedit.js` stays within the gzip budget the README states, is one self-contained
 * file (no import or require of a package left for the page to resolve) and carries no Quill.
 */
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { constants, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { BUNDLE_PATH, readBundle, SDK_DIR } from './bundle-file.js'

const README = resolve(SDK_DIR, '../README.md')
const BUDGET_LINE = /coedit\.js.*size budget:\s*(\d+)\s*kB gzipped/i
/** kB as the README means it: 1,000 bytes. */
const KB = 1000

/** The budget in bytes, from the README line that states it. */
const budgetBytes = (): number => {
  const match = BUDGET_LINE.exec(readFileSync(README, 'utf8'))
  if (match?.[1] === undefined) {
    throw new Error(`README.md has no line matching ${BUDGET_LINE}: state the coedit.js budget`)
  }
  return Number(match[1]) * KB
}

describe('coedit.js bundle', () => {
  it('is within the README size budget, gzipped at level 9', () => {
    const gzipped = gzipSync(readBundle(), { level: constants.Z_BEST_COMPRESSION }).length
    const budget = budgetBytes()
    expect(
      gzipped,
      `coedit.js is ${(gzipped / KB).toFixed(1)} kB gzipped; the budget is ${budget / KB} kB`,
    ).toBeLessThanOrEqual(budget)
  })

  it('leaves no import() or require() of a package for the page to resolve', () => {
    const bundle = readBundle()
    expect(bundle).not.toMatch(/\bimport\s*\(/)
    expect(bundle).not.toMatch(/\brequire\s*\(\s*["'`]/)
    expect(bundle).not.toMatch(/^\s*import\s/m)
  })

  it('inlines quill-cursors but carries none of Quill itself', () => {
    const bundle = readBundle()
    expect(bundle).toContain('ql-cursor-caret-container') // quill-cursors' own CSS
    for (const quillSource of ['formats/bold', 'blots/scroll', 'Quill.register', 'quill-delta']) {
      expect(bundle).not.toContain(quillSource)
    }
  })

  it('has its sourcemap beside it', () => {
    expect(readBundle().trimEnd().endsWith('//# sourceMappingURL=coedit.js.map')).toBe(true)
    expect(existsSync(`${BUNDLE_PATH}.map`)).toBe(true)
  })
})
