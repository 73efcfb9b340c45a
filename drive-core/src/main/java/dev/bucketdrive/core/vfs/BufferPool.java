package dev.bucketdrive.core.vfs;

import java.util.concurrent.ArrayBlockingQueue;

/**
 * A few byte arrays of one size, kept for reuse: the parts of uploads on their way from the cache to
 * the bucket (fetched chunks go the other way in small pieces, {@link Drive#FETCH_TRANSFER}). A new
 * array of megabytes for each would live just long enough (one request) for the garbage collector to
 * copy it, and to promote it when several are in flight.
 */
final class BufferPool {

    private final int size;
    private final ArrayBlockingQueue<byte[]> free;

    /** @param keep how many arrays are kept when given back; more are made when all are in use */
    BufferPool(int size, int keep) {
        this.size = size;
        this.free = new ArrayBlockingQueue<>(keep);
    }

    /** An array of {@code length} bytes, of old content: a kept one when the length is the pool's. */
    byte[] take(int length) {
        byte[] kept = length == size ? free.poll() : null;
        return kept != null ? kept : new byte[length];
    }

    /** Gives an array from {@link #take} back; its holder no longer uses it. */
    void give(byte[] array) {
        if (array.length == size) {
            free.offer(array);
        }
    }
}
