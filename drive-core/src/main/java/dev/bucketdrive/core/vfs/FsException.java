package dev.bucketdrive.core.vfs;

import dev.bucketdrive.core.local.CacheFullException;
import dev.bucketdrive.core.store.StoreException;

/**
 * A file-system operation failed with {@link #error()}; the message says why, for the log. Only a
 * {@linkplain FsError#isFailure() failure} records a stack trace: the others are ordinary answers
 * ("no such file" to every probe of a build or a shell), and a trace costs more than the rest of the
 * lookup.
 */
public final class FsException extends RuntimeException {

    private final FsError error;

    public FsException(FsError error, String message) {
        this(error, message, null);
    }

    public FsException(FsError error, String message, Throwable cause) {
        super(message, cause, true, error.isFailure());
        this.error = error;
    }

    public FsError error() {
        return error;
    }

    /** What a failure of the bucket means for the file operation that met it. */
    static FsException of(String what, StoreException e) {
        FsError error = switch (e.kind()) {
            case NOT_FOUND -> FsError.NOT_FOUND;
            case PRECONDITION_FAILED -> FsError.STALE;
            case ACCESS_DENIED -> FsError.ACCESS_DENIED;
            case BUCKET_NOT_FOUND, INVALID_REQUEST, NOT_IMPLEMENTED, THROTTLED, TRANSIENT, UNAVAILABLE -> FsError.IO;
        };
        return new FsException(error, what + ": " + e.getMessage(), e);
    }

    /**
     * The error a failure that reached the file system's edge stands for: its own for an
     * FsException, NO_SPACE for a cache that cannot take more (a full disk can meet any change, not
     * only a write), IO for anything else.
     */
    public static FsError errorOf(Throwable t) {
        if (t instanceof FsException e) {
            return e.error();
        }
        return t instanceof CacheFullException ? FsError.NO_SPACE : FsError.IO;
    }

    static FsException of(String what, CacheFullException e) {
        return new FsException(FsError.NO_SPACE, what + ": " + e.getMessage(), e);
    }
}
