/**
 * ClickHouse error codes in one place: which insert failures are permanent
 * (the data or the schema is wrong, retrying cannot help: PermanentError, not
 * retried), and how an exception code maps to an HTTP status for the query
 * server (ClickHouse's exceptionCodeToHTTPStatus, src/Server/HTTP/).
 */
import { PermanentError } from '../../core/errors.ts';

export const ErrorCode = {
  CANNOT_PARSE_TEXT: 6,
  INCORRECT_NUMBER_OF_COLUMNS: 7,
  THERE_IS_NO_COLUMN: 8,
  DUPLICATE_COLUMN: 15,
  NO_SUCH_COLUMN_IN_TABLE: 16,
  NUMBER_OF_COLUMNS_DOESNT_MATCH: 20,
  CANNOT_PARSE_ESCAPE_SEQUENCE: 25,
  CANNOT_PARSE_QUOTED_STRING: 26,
  CANNOT_PARSE_INPUT_ASSERTION_FAILED: 27,
  BAD_ARGUMENTS: 36,
  UNKNOWN_ELEMENT_IN_AST: 37,
  CANNOT_PARSE_DATE: 38,
  CANNOT_PARSE_DATETIME: 41,
  ILLEGAL_TYPE_OF_ARGUMENT: 43,
  ILLEGAL_COLUMN: 44,
  UNKNOWN_FUNCTION: 46,
  UNKNOWN_IDENTIFIER: 47,
  NOT_IMPLEMENTED: 48,
  UNKNOWN_TYPE: 50,
  TYPE_MISMATCH: 53,
  UNKNOWN_STORAGE: 56,
  UNKNOWN_TABLE: 60,
  SYNTAX_ERROR: 62,
  UNKNOWN_AGGREGATE_FUNCTION: 63,
  CANNOT_CONVERT_TYPE: 70,
  CANNOT_PARSE_NUMBER: 72,
  UNKNOWN_FORMAT: 73,
  CANNOT_OPEN_FILE: 76,
  UNKNOWN_TYPE_OF_QUERY: 78,
  UNKNOWN_DATABASE: 81,
  UNKNOWN_SETTING: 115,
  INCORRECT_DATA: 117,
  UNKNOWN_TYPE_OF_AST_NODE: 123,
  CANNOT_READ_ARRAY_FROM_TEXT: 130,
  TOO_LARGE_STRING_SIZE: 131,
  UNKNOWN_DIRECTION_OF_SORTING: 152,
  TIMEOUT_EXCEEDED: 159,
  READONLY: 164,
  TOO_DEEP_AST: 167,
  TOO_BIG_AST: 168,
  UNKNOWN_USER: 192,
  WRONG_PASSWORD: 193,
  REQUIRED_PASSWORD: 194,
  SOCKET_TIMEOUT: 209,
  UNEXPECTED_AST_STRUCTURE: 223,
  QUERY_IS_TOO_LARGE: 229,
  VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE: 321,
  UNKNOWN_DATABASE_ENGINE: 336,
  CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN: 349,
  SIZES_OF_NESTED_COLUMNS_ARE_INCONSISTENT: 366,
  CANNOT_PARSE_UUID: 376,
  HTTP_LENGTH_REQUIRED: 381,
  CANNOT_COMPILE_REGEXP: 427,
  CANNOT_SCHEDULE_TASK: 439,
  CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING: 441,
  UNKNOWN_QUERY_PARAMETER: 456,
  ACCESS_DENIED: 497,
  UNKNOWN_ROLE: 511,
  SET_NON_GRANTED_ROLE: 512,
  AUTHENTICATION_FAILED: 516,
  CANNOT_PARSE_IPV4: 675,
  CANNOT_PARSE_IPV6: 676,
  UNSUPPORTED_MEDIA_TYPE: 779,
} as const;

const C = ErrorCode;

/**
 * Insert failures caused by the data or the schema (bad type, unparsable
 * value, unknown column/table/database, a statement ClickHouse cannot parse).
 * Everything else (network, timeouts, memory, too many parts, a server
 * restarting, missing permissions an operator may fix) is retried.
 */
export const PERMANENT_INSERT_CODES: ReadonlySet<number> = new Set([
  C.CANNOT_PARSE_TEXT, C.INCORRECT_NUMBER_OF_COLUMNS, C.THERE_IS_NO_COLUMN, C.DUPLICATE_COLUMN, C.NO_SUCH_COLUMN_IN_TABLE,
  C.NUMBER_OF_COLUMNS_DOESNT_MATCH, C.CANNOT_PARSE_ESCAPE_SEQUENCE, C.CANNOT_PARSE_QUOTED_STRING,
  C.CANNOT_PARSE_INPUT_ASSERTION_FAILED, C.BAD_ARGUMENTS, C.CANNOT_PARSE_DATE, C.CANNOT_PARSE_DATETIME,
  C.ILLEGAL_TYPE_OF_ARGUMENT, C.ILLEGAL_COLUMN, C.UNKNOWN_IDENTIFIER, C.UNKNOWN_TYPE, C.TYPE_MISMATCH, C.UNKNOWN_TABLE,
  C.SYNTAX_ERROR, C.CANNOT_CONVERT_TYPE, C.CANNOT_PARSE_NUMBER, C.UNKNOWN_FORMAT, C.UNKNOWN_DATABASE, C.UNKNOWN_SETTING,
  C.INCORRECT_DATA, C.CANNOT_READ_ARRAY_FROM_TEXT, C.TOO_LARGE_STRING_SIZE, C.VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE,
  C.CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN, C.SIZES_OF_NESTED_COLUMNS_ARE_INCONSISTENT, C.CANNOT_PARSE_UUID,
  C.CANNOT_PARSE_IPV4, C.CANNOT_PARSE_IPV6,
]);

/** The ClickHouse exception code an error carries (chDB, @clickhouse/client or message text), or undefined. */
export function clickhouseCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { clickhouseCode?: unknown; code?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.clickhouseCode === 'number') return e.clickhouseCode;
  // @clickhouse/client's ClickHouseError: code is the numeric code as a string.
  if (typeof e.code === 'string' && /^\d+$/.test(e.code)) return Number(e.code);
  if (typeof e.message === 'string') {
    const m = /^Code: (\d+)\. /.exec(e.message);
    if (m) return Number(m[1]);
  }
  return e.cause !== undefined && e.cause !== err ? clickhouseCode(e.cause) : undefined;
}

/** Wraps an insert failure: PermanentError for data/schema errors, the error itself otherwise. */
export function classifyInsertError(err: unknown, table: string): Error {
  const code = clickhouseCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code !== undefined && PERMANENT_INSERT_CODES.has(code)) {
    return new PermanentError(`insert into ${table} rejected by ClickHouse (code ${code}): ${firstLine(message)}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(message);
}

export function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

const BAD_REQUEST: ReadonlySet<number> = new Set([
  C.BAD_ARGUMENTS, C.CANNOT_COMPILE_REGEXP, C.CANNOT_PARSE_TEXT, C.CANNOT_PARSE_ESCAPE_SEQUENCE, C.CANNOT_PARSE_QUOTED_STRING,
  C.CANNOT_PARSE_DATE, C.CANNOT_PARSE_DATETIME, C.CANNOT_PARSE_NUMBER, C.CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING,
  C.CANNOT_PARSE_IPV4, C.CANNOT_PARSE_IPV6, C.CANNOT_PARSE_INPUT_ASSERTION_FAILED, C.CANNOT_PARSE_UUID, C.DUPLICATE_COLUMN,
  C.ILLEGAL_COLUMN, C.UNKNOWN_ELEMENT_IN_AST, C.UNKNOWN_TYPE_OF_AST_NODE, C.THERE_IS_NO_COLUMN, C.TOO_DEEP_AST, C.TOO_BIG_AST,
  C.UNEXPECTED_AST_STRUCTURE, C.SYNTAX_ERROR, C.INCORRECT_DATA, C.TYPE_MISMATCH, C.VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE,
]);

const NOT_FOUND: ReadonlySet<number> = new Set([
  C.UNKNOWN_TABLE, C.UNKNOWN_FUNCTION, C.UNKNOWN_IDENTIFIER, C.UNKNOWN_TYPE, C.UNKNOWN_STORAGE, C.UNKNOWN_DATABASE,
  C.UNKNOWN_SETTING, C.UNKNOWN_DIRECTION_OF_SORTING, C.UNKNOWN_AGGREGATE_FUNCTION, C.UNKNOWN_FORMAT,
  C.UNKNOWN_DATABASE_ENGINE, C.UNKNOWN_TYPE_OF_QUERY, C.UNKNOWN_ROLE,
]);

/**
 * ClickHouse's exceptionCodeToHTTPStatus, plus one deliberate difference:
 * READONLY (164) answers 403 here (ClickHouse itself answers 500), because
 * this interface is read-only by design and a refusal is not a server fault.
 */
export function httpStatusForCode(code: number): number {
  if (code === C.REQUIRED_PASSWORD) return 401;
  if (code === C.UNKNOWN_USER || code === C.WRONG_PASSWORD || code === C.AUTHENTICATION_FAILED ||
    code === C.SET_NON_GRANTED_ROLE || code === C.ACCESS_DENIED || code === C.READONLY) return 403;
  if (BAD_REQUEST.has(code)) return 400;
  if (NOT_FOUND.has(code)) return 404;
  if (code === C.QUERY_IS_TOO_LARGE) return 413;
  if (code === C.NOT_IMPLEMENTED) return 501;
  if (code === C.SOCKET_TIMEOUT || code === C.CANNOT_OPEN_FILE || code === C.CANNOT_SCHEDULE_TASK) return 503;
  if (code === C.HTTP_LENGTH_REQUIRED) return 411;
  if (code === C.TIMEOUT_EXCEEDED) return 408;
  if (code === C.UNSUPPORTED_MEDIA_TYPE) return 415;
  return 500;
}

/**
 * A query the read-only interface refuses (or cannot read), with the code
 * ClickHouse would answer: READONLY (164) for a statement, clause or function
 * the interface does not run, ACCESS_DENIED (497) for a table or database
 * outside the role's reach, or a parser's code (62, 456) when the refusal is
 * about the text itself.
 */
export class AdmissionError extends Error {
  override readonly name = 'AdmissionError';
  constructor(message: string, readonly code: number, readonly type: string) {
    super(message);
  }
}

/** `Cannot execute query in readonly mode: <what> is not allowed …` (164). */
export function readonlyRefusal(what: string): AdmissionError {
  return new AdmissionError(`Cannot execute query in readonly mode: ${what} is not allowed on the read-only query interface`, 164, 'READONLY');
}

/** `Not enough privileges: …` (497). */
export function accessDenied(what: string): AdmissionError {
  return new AdmissionError(`Not enough privileges: ${what}`, 497, 'ACCESS_DENIED');
}
