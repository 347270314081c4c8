/**
 * Errors raised by deepprob. Every message names the offending argument and what was expected,
 * so that bad input fails at the call that received it, never as a NaN three calls later.
 */
export class DeepProbError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeepProbError';
  }
}

/** An argument with the wrong value, shape or range. */
export class ArgumentError extends DeepProbError {
  /** The name of the offending argument. */
  readonly argument: string;
  constructor(argument: string, message: string) {
    super(`${argument}: ${message}`);
    this.name = 'ArgumentError';
    this.argument = argument;
  }
}

/** A KL divergence requested for a pair of distributions with no registered analytic form. */
export class NotRegisteredError extends DeepProbError {
  constructor(message: string) {
    super(message);
    this.name = 'NotRegisteredError';
  }
}

/** A method that is not defined for a distribution (e.g. the mean of a Cauchy). */
export class NotDefinedError extends DeepProbError {
  constructor(message: string) {
    super(message);
    this.name = 'NotDefinedError';
  }
}
