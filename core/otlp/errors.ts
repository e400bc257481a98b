import { PermanentError } from '../errors.ts';

/**
 * Raised for any OTLP payload we cannot decode: truncated or malformed protobuf,
 * malformed JSON, wrong types. It is a PermanentError because resending the same
 * bytes cannot succeed: receivers answer HTTP 400 / gRPC INVALID_ARGUMENT.
 */
export class OtlpDecodeError extends PermanentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // PermanentError fixes `name` as a readonly literal; redefine it on the instance.
    Object.defineProperty(this, 'name', { value: 'OtlpDecodeError', enumerable: false });
  }
}
