package dev.bucketdrive.core.local;

/**
 * The cache cannot take more: the dirty limit was reached and uploads did not drain it within the
 * allowed wait (typically because the bucket is unreachable), or its disk is full. Nothing already
 * accepted is lost; the change that got this was not accepted. The drive answers ENOSPC.
 */
public final class CacheFullException extends RuntimeException {
    public CacheFullException(String message) {
        super(message);
    }
}
