/** The source can never work as given (not a box, unsupported format, a box for another provider). */
export class BoxSourceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BoxSourceError";
  }
}
