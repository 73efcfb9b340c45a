package dev.bucketdrive.cache;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * How a cache directory is run.
 *
 * @param directory     where chunks and the index live (created 0700)
 * @param chunkSize     bytes per chunk; fixed when the directory is created, a reopen must agree
 * @param maxBytes      clean chunks are evicted to stay under this
 * @param minFreeBytes  … and to leave at least this much free on the disk (0: the disk is not watched)
 * @param writeReserveBytes writers wait (backpressure) while new dirty bytes would take the disk's free
 *                      space below this once clean chunks are evicted: dirty ones cannot be, and the
 *                      index needs room to commit; at most {@code minFreeBytes}
 * @param maxDirtyBytes writers wait (backpressure) while this much is dirty
 * @param dirtyWait     how long a writer waits for uploads to drain before it gets CacheFullException
 * @param clock         for access times and journal due times
 */
public record CacheOptions(Path directory, int chunkSize, long maxBytes, long minFreeBytes, long writeReserveBytes,
                           long maxDirtyBytes, Duration dirtyWait, Clock clock) {

    public static final int DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;

    public CacheOptions {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(dirtyWait, "dirtyWait");
        Objects.requireNonNull(clock, "clock");
        if (chunkSize < 4096 || Integer.bitCount(chunkSize) != 1) {
            throw new IllegalArgumentException("chunk size must be a power of two, at least 4 KiB: " + chunkSize);
        }
        if (maxBytes < chunkSize || maxDirtyBytes < chunkSize) {
            throw new IllegalArgumentException("cache limits must hold at least one chunk");
        }
        if (writeReserveBytes < 0 || writeReserveBytes > minFreeBytes) {
            throw new IllegalArgumentException("the disk space writers keep free must be between 0 and the "
                    + "space eviction keeps free: " + writeReserveBytes + " of " + minFreeBytes);
        }
    }

    /**
     * A 10 GiB cache with 4 MiB chunks, half of it allowed dirty; eviction keeps 1 GiB of the disk
     * free, writers 64 MiB.
     */
    public static CacheOptions defaults(Path directory) {
        return new CacheOptions(directory, DEFAULT_CHUNK_SIZE, 10L << 30, 1L << 30, 64L << 20, 5L << 30,
                Duration.ofMinutes(5), Clock.systemUTC());
    }

    public CacheOptions withLimits(long newMaxBytes, long newMaxDirtyBytes) {
        return new CacheOptions(directory, chunkSize, newMaxBytes, minFreeBytes, writeReserveBytes, newMaxDirtyBytes,
                dirtyWait, clock);
    }

    public CacheOptions withChunkSize(int newChunkSize) {
        return new CacheOptions(directory, newChunkSize, maxBytes, minFreeBytes, writeReserveBytes, maxDirtyBytes,
                dirtyWait, clock);
    }

    public CacheOptions withMinFreeBytes(long newMinFree) {
        return new CacheOptions(directory, chunkSize, maxBytes, newMinFree, Math.min(writeReserveBytes, newMinFree),
                maxDirtyBytes, dirtyWait, clock);
    }

    /** Writers keep this much free (raises the eviction's free minimum to it if need be). */
    public CacheOptions withWriteReserveBytes(long newReserve) {
        return new CacheOptions(directory, chunkSize, maxBytes, Math.max(minFreeBytes, newReserve), newReserve,
                maxDirtyBytes, dirtyWait, clock);
    }

    public CacheOptions withDirtyWait(Duration newWait) {
        return new CacheOptions(directory, chunkSize, maxBytes, minFreeBytes, writeReserveBytes, maxDirtyBytes,
                newWait, clock);
    }

    public CacheOptions withClock(Clock newClock) {
        return new CacheOptions(directory, chunkSize, maxBytes, minFreeBytes, writeReserveBytes, maxDirtyBytes,
                dirtyWait, newClock);
    }
}
