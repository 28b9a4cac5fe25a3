package dev.vfuse.serve;

/** A request the server refuses, with the HTTP status and the message its {@code {"error": …}} body carries. */
final class HttpError extends Exception {
  private static final long serialVersionUID = 1L;

  final int status;

  HttpError(int status, String message) {
    super(message);
    this.status = status;
  }

  static HttpError badRequest(String message) {
    return new HttpError(400, message);
  }
}
