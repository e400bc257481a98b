/**
 * Protobuf wire-format primitives for the hand-written OTLP codecs (shared
 * constants here; the reader in wire-reader.ts, the writer in wire-writer.ts).
 *
 * Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 (3/4 are the
 * deprecated groups, never used by OTLP: we reject them rather than guess).
 *
 * Reader: every read is bounds-checked against the buffer; message decoders
 * check that each length-delimited field fits inside its parent and that a
 * message ends exactly at its declared end, so a corrupt length can never make
 * us read past the input or loop forever (each loop step consumes >= 1 byte).
 * Strings and ids are sliced straight out of the Node Buffer (utf8Slice /
 * hexSlice measured fastest on Node 20; the benchmark log has the comparison).
 *
 * Writer: one growing buffer; a sub-message reserves one length byte and is
 * shifted in place in the rare case its length needs more (most are < 128 B).
 */
export { MAX_DEPTH, WT_I32, WT_I64, WT_LEN, WT_VARINT } from './wire-common.ts';
export { Reader, fields, nextLenField } from './wire-reader.ts';
export { Writer, sharedWriter } from './wire-writer.ts';
