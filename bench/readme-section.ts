/**
 * Writes a benchmark's results into bench/README.md between its markers,
 * `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->`, or appends the markers and the
 * section at the end of the file the first time. The file is read right before it is written:
 * another benchmark may have rewritten its own section meanwhile.
 */
import { readFileSync, writeFileSync } from 'node:fs'

const README = new URL('./README.md', import.meta.url)

export const writeReadmeSection = (name: string, markdown: string): void => {
  const startMarker = `<!-- bench:${name}:start -->`
  const endMarker = `<!-- bench:${name}:end -->`
  const current = readFileSync(README, 'utf8')
  const start = current.indexOf(startMarker)
  const end = current.indexOf(endMarker)
  if (start === -1 && end === -1) {
    const separator = current.endsWith('\n\n') ? '' : current.endsWith('\n') ? '\n' : '\n\n'
    writeFileSync(README, `${current}${separator}${startMarker}\n${markdown}\n${endMarker}\n`)
    return
  }
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`bench/README.md: the ${startMarker} / ${endMarker} markers are broken`)
  }
  writeFileSync(
    README,
    current.slice(0, start + startMarker.length) + '\n' + markdown + '\n' + current.slice(end),
  )
}
