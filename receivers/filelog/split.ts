/**
 * Cutting a chunk of a file into records: at each newline (a CR before it
 * dropped), or by a multiline pattern, a record never longer than
 * max_log_size. Stateless: the chunk always starts at a record boundary
 * (the file's committed offset), and a record not known to be complete
 * yet (no newline after it, the next record's start not seen) is left for
 * a later read, unless `flush` says the chunk's end is a record's end.
 */
export interface Splitter {
  /** Calls `emit(start, end)` for each record (end exclusive, CR/LF excluded); returns the bytes consumed. */
  split(buf: Buffer, len: number, flush: boolean, emit: (start: number, end: number) => void): number;
}

const LF = 10;
const CR = 13;

function trimEnd(buf: Buffer, start: number, end: number): number {
  return end > start && buf[end - 1] === CR ? end - 1 : end;
}

/** One record per line. */
export function lineSplitter(maxLogSize: number): Splitter {
  return {
    split(buf, len, flush, emit) {
      let pos = 0;
      while (pos < len) {
        const nl = buf.indexOf(LF, pos);
        if (nl < 0 || nl >= len) {
          // No newline in what was read: a line longer than max_log_size is cut; else wait for the rest.
          if (len - pos >= maxLogSize) {
            emit(pos, pos + maxLogSize);
            pos += maxLogSize;
            continue;
          }
          if (flush) {
            emit(pos, trimEnd(buf, pos, len));
            pos = len;
          }
          break;
        }
        if (nl - pos > maxLogSize) {
          emit(pos, pos + maxLogSize);
          pos += maxLogSize;
          continue;
        }
        emit(pos, trimEnd(buf, pos, nl));
        pos = nl + 1;
      }
      return pos;
    },
  };
}

/**
 * Records of several lines: `start` — a record begins at each line matching
 * it (lines before the first such line are a record of their own); `end` — a
 * record ends with each line matching it.
 */
export function multilineSplitter(maxLogSize: number, pattern: RegExp, kind: 'start' | 'end'): Splitter {
  const test = (buf: Buffer, s: number, e: number) => {
    pattern.lastIndex = 0;
    return pattern.test(buf.toString('utf8', s, trimEnd(buf, s, e)));
  };
  return {
    split(buf, len, flush, emit) {
      let recStart = 0;
      let pos = 0;
      let consumed = 0;
      while (pos < len) {
        const nl = buf.indexOf(LF, pos);
        if (nl < 0 || nl >= len) break;
        if (kind === 'start') {
          if (pos > recStart && test(buf, pos, nl)) {
            emit(recStart, trimEnd(buf, recStart, pos - 1));
            recStart = pos;
            consumed = pos;
          }
        } else if (test(buf, pos, nl)) {
          emit(recStart, trimEnd(buf, recStart, nl));
          recStart = nl + 1;
          consumed = recStart;
        }
        pos = nl + 1;
        if (pos - recStart > maxLogSize) {
          // A record grown past max_log_size is emitted as far as it got.
          emit(recStart, trimEnd(buf, recStart, pos - 1));
          recStart = pos;
          consumed = pos;
        }
      }
      if (flush && recStart < len) {
        let end = len;
        if (buf[end - 1] === LF) end--;
        emit(recStart, trimEnd(buf, recStart, end));
        consumed = len;
      } else if (consumed === 0 && len >= maxLogSize) {
        emit(0, maxLogSize);
        consumed = maxLogSize;
      }
      return consumed;
    },
  };
}
