package dev.bucketdrive.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bucketdrive.core.MutableClock;
import dev.bucketdrive.core.local.CacheFullException;
import dev.bucketdrive.core.local.ChunkKey;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Eviction with a clock the test moves: LRU order, the byte limit, and what is never evicted. */
class EvictionTest {

    private static final int CS = 4096;

    @TempDir
    Path dir;
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    LocalCache cache;

    @BeforeEach
    void open() {
        // Room for 10 chunks; eviction brings it down to 90 %.
        cache = LocalCache.open(CacheOptions.defaults(dir).withChunkSize(CS).withLimits(10L * CS, 10L * CS)
                .withMinFreeBytes(0).withClock(clock), Runnable::run);
    }

    @AfterEach
    void close() {
        cache.close();
    }

    private void putClean(long file, int index) {
        clock.advance(Duration.ofSeconds(1));
        cache.chunks().putClean(new ChunkKey(file, index), "e", ByteBuffer.wrap(new byte[CS]));
    }

    private boolean present(long file, int index) {
        return cache.chunks().length(new ChunkKey(file, index)) >= 0;
    }

    @Test
    void leastRecentlyUsedCleanChunksGoFirstAndTheLimitHolds() {
        for (int i = 0; i < 10; i++) {
            putClean(1, i);
        }
        clock.advance(Duration.ofSeconds(1));
        assertThat(cache.chunks().read(new ChunkKey(1, 0), "e", 0, ByteBuffer.allocate(1))).isEqualTo(1);
        putClean(1, 10);

        assertThat(cache.chunks().usage().totalBytes()).isLessThanOrEqualTo(9L * CS);
        assertThat(present(1, 0)).as("recently read").isTrue();
        assertThat(present(1, 1)).as("oldest untouched").isFalse();
        assertThat(present(1, 2)).isFalse();
        assertThat(present(1, 3)).isTrue();
        assertThat(present(1, 10)).as("just fetched").isTrue();
    }

    @Test
    void dirtyAndPinnedChunksAreNeverEvicted() {
        cache.chunks().write(new ChunkKey(2, 0), 0, ByteBuffer.wrap(new byte[CS]));
        cache.chunks().write(new ChunkKey(2, 1), 0, ByteBuffer.wrap(new byte[CS]));
        putClean(3, 0);
        putClean(3, 1);
        cache.chunks().pin(3, true);
        for (int i = 0; i < 20; i++) {
            putClean(4, i);
        }
        assertThat(present(2, 0)).isTrue();
        assertThat(present(2, 1)).isTrue();
        assertThat(present(3, 0)).isTrue();
        assertThat(present(3, 1)).isTrue();
        assertThat(cache.chunks().usage().totalBytes()).isLessThanOrEqualTo(10L * CS);

        cache.chunks().pin(3, false);
        for (int i = 20; i < 30; i++) {
            putClean(4, i);
        }
        assertThat(present(3, 0)).as("unpinned, oldest").isFalse();
        assertThat(present(2, 0)).as("still dirty").isTrue();
    }

    @Test
    void whenEverythingIsDirtyNothingIsEvictedAndNothingIsLost() {
        for (int i = 0; i < 10; i++) {
            cache.chunks().write(new ChunkKey(5, i), 0, ByteBuffer.wrap(new byte[] {(byte) i}));
        }
        cache.chunks().evict();
        for (int i = 0; i < 10; i++) {
            ByteBuffer one = ByteBuffer.allocate(1);
            assertThat(cache.chunks().read(new ChunkKey(5, i), null, 0, one)).isEqualTo(1);
            assertThat(one.get(0)).isEqualTo((byte) i);
        }
    }

    @Test
    void accessTimesSurviveAReopen() {
        for (int i = 0; i < 5; i++) {
            putClean(6, i);
        }
        clock.advance(Duration.ofSeconds(1));
        cache.chunks().read(new ChunkKey(6, 0), "e", 0, ByteBuffer.allocate(1));
        cache.close();
        cache = LocalCache.open(CacheOptions.defaults(dir).withChunkSize(CS).withLimits(10L * CS, 10L * CS)
                .withMinFreeBytes(0).withClock(clock), Runnable::run);
        for (int i = 5; i < 11; i++) {
            putClean(6, i);
        }
        assertThat(present(6, 0)).isTrue();
        assertThat(present(6, 1)).isFalse();
    }

    @Test
    void aFullDiskEvictsEveryCleanChunkButKeepsDirtyOnes() {
        cache.chunks().write(new ChunkKey(7, 0), 0, ByteBuffer.wrap(new byte[] {1}));
        cache.close();
        // Asks for more free space than any disk has: every clean chunk must go.
        cache = LocalCache.open(fullDisk(Duration.ofMinutes(5)), Runnable::run);
        putClean(7, 1);
        putClean(7, 2);
        assertThat(present(7, 1)).isFalse();
        assertThat(present(7, 2)).isFalse();
        assertThat(present(7, 0)).isTrue();
    }

    /** A cache whose writers keep more free space than any disk has. */
    private CacheOptions fullDisk(Duration dirtyWait) {
        return CacheOptions.defaults(dir).withChunkSize(CS).withLimits(10L * CS, 10L * CS)
                .withWriteReserveBytes(Long.MAX_VALUE / 2).withDirtyWait(dirtyWait).withClock(clock);
    }

    /**
     * New dirty bytes must not take the disk below the reserve writers keep: dirty chunks cannot be evicted,
     * and the index needs room to commit. The writer waits for uploads (and evictions) to make room,
     * then gets CacheFullException (ENOSPC) naming the disk; what was accepted stays, and a rewrite
     * of dirty bytes in place still goes through.
     */
    @Test
    void aWriteThatWouldFillTheDiskWaitsAndThenFailsWithoutLosingWhatWasAccepted() {
        cache.chunks().write(new ChunkKey(8, 0), 0, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        cache.close();
        cache = LocalCache.open(fullDisk(Duration.ofMillis(300)), Runnable::run);
        assertThatThrownBy(() -> cache.chunks().write(new ChunkKey(8, 1), 0, ByteBuffer.wrap(new byte[] {4})))
                .isInstanceOf(CacheFullException.class).hasMessageContaining("disk has");
        assertThatThrownBy(() -> cache.chunks().write(new ChunkKey(8, 0), 3, ByteBuffer.wrap(new byte[] {4})))
                .as("growing a dirty chunk").isInstanceOf(CacheFullException.class);
        cache.chunks().write(new ChunkKey(8, 0), 0, ByteBuffer.wrap(new byte[] {9}));
        ByteBuffer back = ByteBuffer.allocate(CS);
        assertThat(cache.chunks().read(new ChunkKey(8, 0), null, 0, back)).isEqualTo(3);
        assertThat(back.array()[0]).isEqualTo((byte) 9);
        assertThat(back.array()[2]).isEqualTo((byte) 3);
        assertThat(cache.chunks().dirtyChunks(8)).containsOnlyKeys(0);
    }

    /**
     * A disk filled by something else fails a chunk file's write with ENOSPC: that is a full cache
     * (the drive answers ENOSPC), not a fault (EIO). /dev/full answers every write so.
     */
    @Test
    void aChunkFileTheDiskCannotTakeIsAFullCache() throws Exception {
        Path full = Path.of("/dev/full");
        assumeTrue(Files.isWritable(full), "no writable /dev/full");
        ChunkKey key = new ChunkKey(11, 0);
        Path file = ((SqliteChunkStore) cache.chunks()).path(key);
        Files.createDirectories(file.getParent());
        Files.createSymbolicLink(file, full);
        assertThatThrownBy(() -> cache.chunks().write(key, 0, ByteBuffer.wrap(new byte[CS])))
                .isInstanceOf(CacheFullException.class).hasMessageContaining("disk is full");
    }

    /**
     * Writes check the disk's free space against the writers' reserve from a reading up to 100 ms
     * old, less what they wrote since, while that leaves twice the reserve; closer to the limit, or
     * once the reading is older, they read the disk again, and a disk found short refuses them.
     */
    @Test
    void writesJudgeTheFreeDiskFromARecentReadingWhileItLeavesTwiceTheReserve() {
        cache.close();
        cache = LocalCache.open(CacheOptions.defaults(dir).withChunkSize(CS).withLimits(100L * CS, 100L * CS)
                .withWriteReserveBytes(4L * CS).withDirtyWait(Duration.ofMillis(300)).withClock(clock), Runnable::run);
        AtomicLong free = new AtomicLong(20L * CS);
        AtomicInteger readings = new AtomicInteger();
        ((SqliteChunkStore) cache.chunks()).readFreeDiskWith(() -> {
            readings.incrementAndGet();
            return free.get();
        });
        int index = 0;
        cache.chunks().write(new ChunkKey(12, index++), 0, ByteBuffer.wrap(new byte[CS]));
        assertThat(readings).as("the first write reads the disk").hasValue(1);
        // 19 chunks free after it: the next 11 writes leave at least 8 (twice the reserve of 4).
        while (index <= 11) {
            cache.chunks().write(new ChunkKey(12, index++), 0, ByteBuffer.wrap(new byte[CS]));
        }
        assertThat(readings).hasValue(1);
        cache.chunks().write(new ChunkKey(12, index++), 0, ByteBuffer.wrap(new byte[CS]));
        assertThat(readings).as("the estimate would leave less than twice the reserve").hasValue(2);

        clock.advance(Duration.ofMillis(100));
        free.set(3L * CS);
        assertThatThrownBy(() -> cache.chunks().write(new ChunkKey(13, 0), 0, ByteBuffer.wrap(new byte[] {1})))
                .as("a reading 100 ms old does not stand").isInstanceOf(CacheFullException.class)
                .hasMessageContaining("disk has " + 3L * CS + " bytes free");
        assertThat(cache.chunks().dirtyChunks(13)).isEmpty();
    }

    /** With nothing waiting for upload, no wait can make room: a full disk answers at once. */
    @Test
    void aWriteToAFullDiskWithNothingToUploadFailsAtOnce() {
        putClean(9, 0);
        cache.close();
        cache = LocalCache.open(fullDisk(Duration.ofMinutes(5)), Runnable::run);
        assertThatThrownBy(() -> cache.chunks().write(new ChunkKey(9, 1), 0, ByteBuffer.wrap(new byte[] {1})))
                .isInstanceOf(CacheFullException.class).hasMessageContaining("nothing waits for upload");
        assertThat(present(9, 0)).as("evicted while looking for room").isFalse();
        assertThat(cache.chunks().dirtyChunks(9)).isEmpty();
    }
}
