package dev.bucketdrive.core.vfs;

import dev.bucketdrive.core.attrs.PosixMetadata;
import dev.bucketdrive.core.names.NameCodec;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * How a drive behaves. One immutable record; {@link #standard()} gives what {@code bucketdrive mount}
 * uses without options.
 *
 * @param keyPrefix         the part of the bucket the drive shows: {@code ""} or a prefix ending in {@code /}
 * @param readOnly          refuse every change with {@link FsError#READ_ONLY}
 * @param defaults          what objects without POSIX metadata show
 * @param names             how key components are shown (POSIX, or Windows' reversible mapping)
 * @param caseInsensitive   match names case-insensitively and show keys that differ only by case apart
 *                          (Windows; see {@link CaseCollisions})
 * @param writeBackDelay    how long a closed dirty file waits before it uploads, so rewrites coalesce;
 *                          uploads also wait for a pause in writing ({@code WriteBack.PAUSE}, or this
 *                          delay when it is shorter), so that a bulk copy runs first, then uploads
 * @param writeBackMaxDelay the longest a closed file waits for such a pause, counted from its close
 * @param listingTtl        how long a directory listing is trusted before the bucket is listed again
 * @param revalidateAfter   an open of a file whose version was confirmed longer ago than this asks the
 *                          bucket (HEAD) whether it changed
 * @param uploadThreads     uploads (and renames, deletes) in flight at once. Each small upload is mostly a
 *                          wait for the bucket's answer, so on a link with a long round trip more at
 *                          once go that much faster; the bodies they hold in memory have a budget of
 *                          their own ({@code WriteBack.PUT_BODY_BUDGET_KIB}), and big files send their
 *                          parts through the four part senders whatever this is
 * @param readAheadChunks   chunks fetched ahead of a sequential reader
 * @param fetchTimeout      how long a read waits for missing data before it fails with EIO
 * @param fsyncTimeout      how long fsync waits for the bucket before it fails with EIO (data stays queued)
 * @param hostName          the name conflict copies carry
 */
public record DriveOptions(String keyPrefix, boolean readOnly, PosixMetadata.Defaults defaults, NameCodec names,
                           boolean caseInsensitive, Duration writeBackDelay, Duration writeBackMaxDelay, Duration listingTtl,
                           Duration revalidateAfter, int uploadThreads, int readAheadChunks, Duration fetchTimeout,
                           Duration fsyncTimeout, String hostName, Clock clock) {

    public DriveOptions {
        Objects.requireNonNull(keyPrefix, "keyPrefix");
        if (!keyPrefix.isEmpty() && (!keyPrefix.endsWith("/") || keyPrefix.startsWith("/") || keyPrefix.contains("//"))) {
            throw new IllegalArgumentException("a key prefix ends with / and has no empty component: " + keyPrefix);
        }
        Objects.requireNonNull(defaults, "defaults");
        Objects.requireNonNull(names, "names");
        Objects.requireNonNull(writeBackDelay, "writeBackDelay");
        Objects.requireNonNull(writeBackMaxDelay, "writeBackMaxDelay");
        Objects.requireNonNull(listingTtl, "listingTtl");
        Objects.requireNonNull(revalidateAfter, "revalidateAfter");
        Objects.requireNonNull(fetchTimeout, "fetchTimeout");
        Objects.requireNonNull(fsyncTimeout, "fsyncTimeout");
        Objects.requireNonNull(hostName, "hostName");
        Objects.requireNonNull(clock, "clock");
        if (uploadThreads < 1 || readAheadChunks < 0) {
            throw new IllegalArgumentException("uploadThreads >= 1 and readAheadChunks >= 0");
        }
        if (writeBackDelay.isNegative() || writeBackMaxDelay.isNegative() || listingTtl.isNegative() || revalidateAfter.isNegative()) {
            throw new IllegalArgumentException("negative duration");
        }
    }

    public static DriveOptions standard() {
        return new DriveOptions("", false, PosixMetadata.Defaults.forUser(0, 0), NameCodec.POSIX, false,
                Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(2), 32, 8,
                Duration.ofMinutes(2), Duration.ofMinutes(2), "localhost", Clock.systemUTC());
    }

    public DriveOptions withKeyPrefix(String prefix) {
        return new DriveOptions(prefix, readOnly, defaults, names, caseInsensitive, writeBackDelay, writeBackMaxDelay, listingTtl,
                revalidateAfter, uploadThreads, readAheadChunks, fetchTimeout, fsyncTimeout, hostName, clock);
    }

    public DriveOptions withReadOnly(boolean ro) {
        return new DriveOptions(keyPrefix, ro, defaults, names, caseInsensitive, writeBackDelay, writeBackMaxDelay, listingTtl,
                revalidateAfter, uploadThreads, readAheadChunks, fetchTimeout, fsyncTimeout, hostName, clock);
    }

    public DriveOptions withDefaults(PosixMetadata.Defaults d) {
        return new DriveOptions(keyPrefix, readOnly, d, names, caseInsensitive, writeBackDelay, writeBackMaxDelay, listingTtl,
                revalidateAfter, uploadThreads, readAheadChunks, fetchTimeout, fsyncTimeout, hostName, clock);
    }

    /** Windows: the look-alike name mapping and case-insensitive matching. */
    public DriveOptions forWindows() {
        return new DriveOptions(keyPrefix, readOnly, defaults, NameCodec.WINDOWS, true, writeBackDelay, writeBackMaxDelay, listingTtl,
                revalidateAfter, uploadThreads, readAheadChunks, fetchTimeout, fsyncTimeout, hostName, clock);
    }

    /** The write-back delay; the longest wait for a pause in writing stays, or grows to {@code d}. */
    public DriveOptions withWriteBackDelay(Duration d) {
        return withWriteBackDelay(d, writeBackMaxDelay.compareTo(d) < 0 ? d : writeBackMaxDelay);
    }

    public DriveOptions withWriteBackDelay(Duration d, Duration max) {
        return new DriveOptions(keyPrefix, readOnly, defaults, names, caseInsensitive, d, max, listingTtl,
                revalidateAfter, uploadThreads, readAheadChunks, fetchTimeout, fsyncTimeout, hostName, clock);
    }

    public DriveOptions withListingTtl(Duration ttl, Duration revalidate) {
        return new DriveOptions(keyPrefix, readOnly, defaults, names, caseInsensitive, writeBackDelay, writeBackMaxDelay, ttl,
                revalidate, uploadThreads, readAheadChunks, fetchTimeout, fsyncTimeout, hostName, clock);
    }

    public DriveOptions withHostName(String host) {
        return new DriveOptions(keyPrefix, readOnly, defaults, names, caseInsensitive, writeBackDelay, writeBackMaxDelay, listingTtl,
                revalidateAfter, uploadThreads, readAheadChunks, fetchTimeout, fsyncTimeout, host, clock);
    }

    public DriveOptions withClock(Clock c) {
        return new DriveOptions(keyPrefix, readOnly, defaults, names, caseInsensitive, writeBackDelay, writeBackMaxDelay, listingTtl,
                revalidateAfter, uploadThreads, readAheadChunks, fetchTimeout, fsyncTimeout, hostName, c);
    }

    public DriveOptions withUploadThreads(int threads) {
        return new DriveOptions(keyPrefix, readOnly, defaults, names, caseInsensitive, writeBackDelay, writeBackMaxDelay, listingTtl,
                revalidateAfter, threads, readAheadChunks, fetchTimeout, fsyncTimeout, hostName, clock);
    }

    public DriveOptions withTimeouts(Duration fetch, Duration fsync) {
        return new DriveOptions(keyPrefix, readOnly, defaults, names, caseInsensitive, writeBackDelay, writeBackMaxDelay, listingTtl,
                revalidateAfter, uploadThreads, readAheadChunks, fetch, fsync, hostName, clock);
    }
}
