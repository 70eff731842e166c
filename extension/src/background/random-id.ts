/** Random ids and secrets, base64url without padding, from the platform's CSPRNG. */

/** `bytes` random bytes as base64url: 16 → a 128-bit room id, 32 → a 256-bit room key. */
export const randomId = (bytes: number): string => {
  const buffer = crypto.getRandomValues(new Uint8Array(bytes))
  let binary = ''
  for (const byte of buffer) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
