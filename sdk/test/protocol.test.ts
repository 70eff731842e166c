/**
 * The shared wire protocol: encoders and the strict decoder agree, stock y-protocols messages
 * decode, and malformed input fails with `bad-message` — never anything else.
 */
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import {
  CloseCode,
  closeReasonOf,
  decodeAwarenessUpdate,
  decodeRelayFrame,
  decodeStateVectorMap,
  encodeAwarenessFrame,
  encodeAwarenessUpdate,
  encodeCoeditHello,
  encodeCoeditSaved,
  encodeQueryAwareness,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  isCoveredBy,
  isPermanentClose,
  parseSignalingMessage,
  type CoeditError,
} from '../src/protocol/index.js'

const stock = (write: (encoder: encoding.Encoder) => void) => {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

const docWithText = (text: string) => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return doc
}

const expectBadMessage = (fn: () => unknown) => {
  let error: unknown
  try {
    fn()
  } catch (caught) {
    error = caught
  }
  expect((error as CoeditError | undefined)?.code).toBe('bad-message')
}

describe('relay frames', () => {
  it('decodes stock y-protocols sync messages and matches our encoders byte for byte', () => {
    const doc = docWithText('hi')
    const step1 = stock((e) => {
      encoding.writeVarUint(e, 0)
      syncProtocol.writeSyncStep1(e, doc)
    })
    expect(encodeSyncStep1(Y.encodeStateVector(doc))).toEqual(step1)
    expect(decodeRelayFrame(step1)).toEqual({
      type: 'sync-step1',
      stateVector: Y.encodeStateVector(doc),
    })
    const step2 = stock((e) => {
      encoding.writeVarUint(e, 0)
      syncProtocol.writeSyncStep2(e, doc)
    })
    expect(encodeSyncStep2(Y.encodeStateAsUpdate(doc))).toEqual(step2)
    expect(decodeRelayFrame(step2).type).toBe('sync-step2')
    const update = Y.encodeStateAsUpdate(doc)
    const updateFrame = stock((e) => {
      encoding.writeVarUint(e, 0)
      syncProtocol.writeUpdate(e, update)
    })
    expect(encodeSyncUpdate(update)).toEqual(updateFrame)
    expect(decodeRelayFrame(updateFrame)).toEqual({ type: 'sync-update', update })
  })

  it('decodes stock awareness updates and validates every state as JSON', () => {
    const doc = new Y.Doc()
    const awareness = new awarenessProtocol.Awareness(doc)
    awareness.setLocalState({ user: { name: 'Ada', color: '#f00' } })
    const update = awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID])
    const message = decodeRelayFrame(encodeAwarenessFrame(update))
    expect(message.type).toBe('awareness')
    if (message.type !== 'awareness') throw new Error('unreachable')
    expect(message.entries).toEqual([
      { clientID: doc.clientID, clock: 1, state: JSON.stringify(awareness.getLocalState()) },
    ])
    expect(encodeAwarenessUpdate(message.entries)).toEqual(update)
    awareness.destroy()

    const notJson = encodeAwarenessUpdate([{ clientID: 1, clock: 1, state: '{nope' }])
    expectBadMessage(() => decodeAwarenessUpdate(notJson))
  })

  it('round-trips the Coedit extension messages', () => {
    expect(decodeRelayFrame(encodeCoeditHello(1, 0))).toEqual({
      type: 'coedit-hello',
      major: 1,
      minor: 0,
    })
    const sv = Y.encodeStateVector(docWithText('abc'))
    expect(decodeRelayFrame(encodeCoeditSaved(sv, 42))).toEqual({
      type: 'coedit-saved',
      stateVector: sv,
      acked: 42,
    })
    expect(decodeRelayFrame(encodeQueryAwareness())).toEqual({ type: 'query-awareness' })
  })

  it('rejects unknown types, truncation and trailing bytes with bad-message', () => {
    const frame = encodeSyncUpdate(Y.encodeStateAsUpdate(docWithText('hello world')))
    for (let cut = 0; cut < frame.length; cut++) {
      expectBadMessage(() => decodeRelayFrame(frame.subarray(0, cut)))
    }
    expectBadMessage(() => decodeRelayFrame(new Uint8Array([...frame, 0])))
    expectBadMessage(() => decodeRelayFrame(new Uint8Array([7])))
    expectBadMessage(() => decodeRelayFrame(new Uint8Array([0, 9, 0])))
    expectBadMessage(() => decodeRelayFrame(new Uint8Array([100, 9])))
  })
})

describe('state vectors', () => {
  it('says a local state is covered only when every clock is persisted', () => {
    const doc = docWithText('abc')
    const local = decodeStateVectorMap(Y.encodeStateVector(doc))
    expect(isCoveredBy(local, local)).toBe(true)
    expect(isCoveredBy(local, new Map())).toBe(false)
    const persisted = new Map(local)
    persisted.set(doc.clientID, 2)
    expect(isCoveredBy(local, persisted)).toBe(false)
    expect(isCoveredBy(new Map(), persisted)).toBe(true)
  })
})

describe('signaling messages', () => {
  it('parses the four stock messages', () => {
    expect(parseSignalingMessage('{"type":"ping"}')).toEqual({ type: 'ping' })
    expect(parseSignalingMessage('{"type":"subscribe","topics":["a","b"]}')).toEqual({
      type: 'subscribe',
      topics: ['a', 'b'],
    })
    expect(parseSignalingMessage('{"type":"unsubscribe","topics":["a"]}')).toEqual({
      type: 'unsubscribe',
      topics: ['a'],
    })
    expect(parseSignalingMessage('{"type":"publish","topic":"a","data":{"x":1}}')).toEqual({
      type: 'publish',
      topic: 'a',
      data: { x: 1 },
    })
  })

  it('rejects malformed envelopes with bad-message', () => {
    for (const text of [
      'nope',
      '[]',
      'null',
      '{"type":"subscribe"}',
      '{"type":"subscribe","topics":[1]}',
      '{"type":"subscribe","topics":[""]}',
      `{"type":"subscribe","topics":["${'x'.repeat(513)}"]}`,
      '{"type":"publish"}',
      '{"type":"shout"}',
    ]) {
      expectBadMessage(() => parseSignalingMessage(text))
    }
  })
})

describe('close codes', () => {
  it('names every code and classifies permanence as stock y-websocket does', () => {
    for (const [reason, code] of Object.entries(CloseCode)) {
      expect(closeReasonOf(code)).toBe(reason)
    }
    expect(isPermanentClose(CloseCode.unauthorized)).toBe(true)
    expect(isPermanentClose(CloseCode.restart)).toBe(false)
    expect(isPermanentClose(CloseCode.slowConsumer)).toBe(false)
    expect(isPermanentClose(CloseCode.rateLimited)).toBe(false)
  })
})
