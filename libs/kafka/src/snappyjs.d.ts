// snappyjs ships no type declarations: the two functions the codecs use.
declare module 'snappyjs' {
  export function compress(input: Buffer): Buffer;
  export function uncompress(input: Buffer): Buffer;
}
