package dev.bucketdrive.core.vfs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Buffers of one chunk each for fetched chunks on their way from the bucket into the cache. The first
 * {@code direct} ever needed at once are direct buffers, kept for reuse: the cache writes them to its
 * files without copying them again, and the garbage collector never copies or promotes them. A fetch
 * that finds all of those in use gets a heap buffer, dropped after use. (Heap arrays of a chunk, made
 * anew whenever more than three fetches ran at once, cost a cold read of 256 MiB about ten collections
 * that copied them; docs/BENCHMARKS.md, session 49.)
 */
final class ChunkBuffers {

    /** Bytes one read of the body asks for: what the JDK reads from a socket at once. */
    static final int TRANSFER = 128 * 1024;

    private final int size;
    private final ArrayBlockingQueue<Buffer> free;
    private final AtomicInteger directLeft;

    /**
     * @param size   bytes of a buffer (a chunk)
     * @param direct how many direct buffers are made at most; they are kept when given back
     */
    ChunkBuffers(int size, int direct) {
        this.size = size;
        this.free = new ArrayBlockingQueue<>(Math.max(1, direct));
        this.directLeft = new AtomicInteger(direct);
    }

    /** A buffer of a chunk, of old content: a kept direct one, a new direct one while allowed, else a heap one. */
    Buffer take() {
        Buffer kept = free.poll();
        if (kept != null) {
            return kept;
        }
        if (directLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            return new Buffer(ByteBuffer.allocateDirect(size), new byte[TRANSFER]);
        }
        return new Buffer(ByteBuffer.allocate(size), null);
    }

    /** Gives a buffer from {@link #take} back; its holder no longer uses it, nor any view of it. */
    void give(Buffer buffer) {
        if (buffer.isDirect()) {
            free.offer(buffer);
        }
    }

    /** One chunk's buffer; a direct one has a small array that the body's bytes pass through. */
    static final class Buffer {
        private final ByteBuffer bytes;
        private final byte[] transfer;

        private Buffer(ByteBuffer bytes, byte[] transfer) {
            this.bytes = bytes;
            this.transfer = transfer;
        }

        boolean isDirect() {
            return bytes.isDirect();
        }

        /**
         * Reads from {@code in} until the buffer is full or the stream ends, and returns a view of the
         * bytes read (from position 0); the view is valid until the next fill.
         */
        ByteBuffer fill(InputStream in) throws IOException {
            int n = 0;
            int capacity = bytes.capacity();
            while (n < capacity) {
                int got;
                if (transfer == null) {
                    got = in.read(bytes.array(), bytes.arrayOffset() + n, capacity - n);
                } else {
                    got = in.read(transfer, 0, Math.min(transfer.length, capacity - n));
                    if (got > 0) {
                        bytes.put(n, transfer, 0, got);
                    }
                }
                if (got < 0) {
                    break;
                }
                n += got;
            }
            return bytes.slice(0, n);
        }
    }
}
