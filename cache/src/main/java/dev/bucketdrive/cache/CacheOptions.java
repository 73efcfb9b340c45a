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
 * @param minFreeBytes  … and to leave at least this much free on the disk; writers wait (backpressure)
 *                      while dirty bytes would take the disk below it (0: the disk is not watched)
 * @param maxDirtyBytes writers wait (backpressure) while this much is dirty
 * @param dirtyWait     how long a writer waits for uploads to drain before it gets CacheFullException
 * @param clock         for access times and journal due times
 */
public record CacheOptions(Path directory, int chunkSize, long maxBytes, long minFreeBytes, long maxDirtyBytes,
                           Duration dirtyWait, Clock clock) {

    public static final int DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;

    public CacheOptions {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(dirtyWait, "dirtyWait");
        Objects.requireNonNull(clock, "clock");
        if (chunkSize < 4096 || Integer.bitCount(chunkSize) != 1) {
            throw new IllegalArgumentException("chunk size must be a power of two, at least 4 KiB: " + chunkSize);
        }
        if (maxBytes < chunkSize || maxDirtyBytes < chunkSize || minFreeBytes < 0) {
            throw new IllegalArgumentException("cache limits must hold at least one chunk");
        }
    }

    /** A 10 GiB cache with 4 MiB chunks, half of it allowed dirty, keeping 1 GiB of the disk free. */
    public static CacheOptions defaults(Path directory) {
        return new CacheOptions(directory, DEFAULT_CHUNK_SIZE, 10L << 30, 1L << 30, 5L << 30,
                Duration.ofMinutes(5), Clock.systemUTC());
    }

    public CacheOptions withLimits(long newMaxBytes, long newMaxDirtyBytes) {
        return new CacheOptions(directory, chunkSize, newMaxBytes, minFreeBytes, newMaxDirtyBytes, dirtyWait, clock);
    }

    public CacheOptions withChunkSize(int newChunkSize) {
        return new CacheOptions(directory, newChunkSize, maxBytes, minFreeBytes, maxDirtyBytes, dirtyWait, clock);
    }

    public CacheOptions withMinFreeBytes(long newMinFree) {
        return new CacheOptions(directory, chunkSize, maxBytes, newMinFree, maxDirtyBytes, dirtyWait, clock);
    }

    public CacheOptions withDirtyWait(Duration newWait) {
        return new CacheOptions(directory, chunkSize, maxBytes, minFreeBytes, maxDirtyBytes, newWait, clock);
    }

    public CacheOptions withClock(Clock newClock) {
        return new CacheOptions(directory, chunkSize, maxBytes, minFreeBytes, maxDirtyBytes, dirtyWait, newClock);
    }
}
