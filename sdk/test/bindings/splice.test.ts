/**
 * spliceMany behaves like `Array.prototype.splice` with spread items, also where the spread
 * would overflow the stack (a 100-page document's lines, one long line's characters).
 */
import { describe, expect, it } from 'vitest'
import { spliceMany } from '../../src/bindings/rich/splice.js'

describe('spliceMany', () => {
  it('matches splice for small and large insertions', () => {
    for (const count of [0, 3, 8192, 8193, 250_000]) {
      const items = Array.from({ length: count }, (_, i) => -i - 1)
      const actual = [0, 1, 2, 3, 4, 5]
      spliceMany(actual, 2, 2, items)
      // An array literal's spread copies without an argument list, so it cannot overflow.
      expect(actual).toEqual([0, 1, ...items, 4, 5])
    }
  })

  it('inserts 250,000 items where a spread overflows the stack', () => {
    const items = Array.from({ length: 250_000 }, (_, i) => i)
    expect(() => [0].splice(0, 0, ...items)).toThrow(RangeError)
    const target = ['a', 'b']
    spliceMany(target, 1, 0, items.map(String))
    expect(target).toHaveLength(250_002)
    expect(target[0]).toBe('a')
    expect(target[1]).toBe('0')
    expect(target.at(-1)).toBe('b')
  })
})
