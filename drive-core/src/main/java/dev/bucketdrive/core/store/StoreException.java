package dev.bucketdrive.core.store;

import java.util.Objects;

/**
 * The one error an {@link ObjectStore} throws. Implementations translate their own failures (HTTP
 * status codes, SDK exceptions, I/O errors) into a {@link Kind}; nothing of the transport leaks out.
 */
public final class StoreException extends RuntimeException {

    /** What went wrong, as far as a caller of the store needs to know. */
    public enum Kind {
        /** The key (or multipart upload) does not exist. */
        NOT_FOUND(false),
        /** The bucket itself does not exist. */
        BUCKET_NOT_FOUND(false),
        /** An If-Match / If-None-Match condition did not hold: someone else changed the object. */
        PRECONDITION_FAILED(false),
        /** Credentials were refused or lack the permission. Retrying cannot help. */
        ACCESS_DENIED(false),
        /** The request is malformed for this server (too small a part, bad range, key too long …). */
        INVALID_REQUEST(false),
        /** The server does not implement the operation (e.g. UploadPartCopy, conditional writes). */
        NOT_IMPLEMENTED(false),
        /** The server asked us to slow down (429, 503 SlowDown). Worth retrying after a pause. */
        THROTTLED(true),
        /** A failure that may pass: 5xx, timeout, connection reset or refused. Worth retrying. */
        TRANSIENT(true),
        /** The store refuses calls for now without trying (circuit open, too many in flight). */
        UNAVAILABLE(false);

        private final boolean retryable;

        Kind(boolean retryable) {
            this.retryable = retryable;
        }

        /** Whether retrying the same request, after a pause, may succeed. */
        public boolean retryable() {
            return retryable;
        }
    }

    private final Kind kind;

    public StoreException(Kind kind, String message) {
        this(kind, message, null);
    }

    public StoreException(Kind kind, String message, Throwable cause) {
        super(Objects.requireNonNull(kind) + ": " + message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public boolean retryable() {
        return kind.retryable();
    }

    public static StoreException notFound(String key) {
        return new StoreException(Kind.NOT_FOUND, "no object " + key);
    }

    public static StoreException preconditionFailed(String key) {
        return new StoreException(Kind.PRECONDITION_FAILED, "object " + key + " changed");
    }

    public static StoreException invalid(String message) {
        return new StoreException(Kind.INVALID_REQUEST, message);
    }
}
