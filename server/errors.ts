// Limelight's error classes. `name` is always the subclass's name, so a message, a log line and an
// execution_error's exception_type say which kind of failure it was.

export class LimelightError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Bad user input to a node: shown with the node and the input it names. `nodeId` names another node whose
 * input is at fault (found only downstream, e.g. by the Sampler); absent = the node that threw.
 */
export class NodeInputError extends LimelightError {
  constructor(
    readonly inputName: string,
    message: string,
    readonly nodeId?: string,
  ) {
    super(message);
  }
}

/** A mistake on the command line (an unknown flag, a bad value, the wrong number of files). */
export class UsageError extends LimelightError {}

/** A queued prompt that no longer validates when its turn comes (a file or model changed meanwhile). */
export class ValidationError extends LimelightError {}

/** The engine itself failed, outside any node. */
export class InternalError extends LimelightError {}

/** The server stopped while a prompt was running. */
export class ServerRestart extends LimelightError {}
